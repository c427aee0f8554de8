"""Custom workflows: invoke_workflow spans with one chain span per step; cancellation is no error."""

from __future__ import annotations

import asyncio

import pytest
from llama_index.core.llms import ChatMessage
from llama_index.core.workflow import Context, Event, StartEvent, StopEvent, Workflow, step
from llama_index.llms.openai import OpenAI
from opentelemetry.trace import StatusCode
from workflows.errors import WorkflowCancelledByUser

import obs_llamaindex
from llamaindex._support import attrs
from obs_core import semconv as sc
from obs_core.testing import ScriptedOpenAIServer, ScriptedReply, SpanCapture

pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecationWarning:inspect")


class Drafted(Event):
    draft: str


class Writer(Workflow):
    def __init__(self, llm: OpenAI) -> None:
        super().__init__(timeout=10)
        self.llm = llm

    @step
    async def draft(self, ev: StartEvent) -> Drafted:
        reply = await self.llm.achat([ChatMessage(role="user", content=ev.get("topic"))])
        return Drafted(draft=reply.message.content or "")

    @step
    async def polish(self, ev: Drafted) -> StopEvent:
        return StopEvent(result=ev.draft.upper())


class Waiter(Workflow):
    @step
    async def wait(self, ctx: Context, ev: StartEvent) -> StopEvent:
        await asyncio.sleep(30)
        return StopEvent(result="never")


async def test_custom_workflow_is_an_invoke_workflow_span_with_a_chain_span_per_step(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture, server: ScriptedOpenAIServer,
    llm: OpenAI,
) -> None:
    server.enqueue(ScriptedReply.text("a short draft"))

    result = await Writer(llm).run(topic="Write about tea.")

    assert result == "A SHORT DRAFT"
    assert capture.tree() == [
        (0, "invoke_workflow Writer"),
        (1, "Writer.draft"),
        (2, "chat gpt-4o-mini"),
        (1, "Writer.polish"),
    ]
    workflow = attrs(capture.one("invoke_workflow Writer"))
    assert workflow[sc.OBS_SPAN_KIND] == "chain"
    assert workflow[sc.GEN_AI_OPERATION_NAME] == "invoke_workflow"
    assert workflow[sc.GEN_AI_WORKFLOW_NAME] == "Writer"
    assert isinstance(workflow["obs.metadata.llamaindex.run_id"], str)
    assert workflow[sc.OBS_ROLLUP_LLM_CALLS] == 1
    assert instrumented.recorder.open_run_count == 0


async def test_cancelled_workflow_run_is_not_an_error(
    instrumented: obs_llamaindex.Instrumentation, capture: SpanCapture,
) -> None:
    handler = Waiter(timeout=10).run()
    await asyncio.sleep(0.05)

    await handler.cancel_run()
    with pytest.raises(WorkflowCancelledByUser):
        await handler

    assert capture.tree() == [(0, "invoke_workflow Waiter"), (1, "Waiter.wait")]
    for span in capture.spans:
        assert span.status.status_code is StatusCode.OK
        assert attrs(span)["obs.control_flow"] == "cancelled"
    assert instrumented.recorder.open_run_count == 0
