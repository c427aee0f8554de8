"""Workflow runs and the agents inside them: which run a step belongs to, and whether the agent
loop hit its step limit.

LlamaIndex runs every agent as a workflow. A single agent (``FunctionAgent``, ``ReActAgent``,
``CodeActAgent``) *is* the workflow, so its run span becomes the ``invoke_agent`` span. A
multi-agent ``AgentWorkflow`` runs its agents' steps inside one workflow and hands control from
one to the next; each agent's turn becomes its own ``invoke_agent`` span, as siblings under the
``invoke_workflow`` span in handoff order (an agent that gets control back opens a new turn). The
steps carry the agent's name on their input events (``current_agent_name``), which is how a
handoff is seen.

The step limit is LlamaIndex's ``max_iterations``: every handled ``AgentOutput`` is one iteration
(its ``num_iterations``), and the loop stops when the count reaches the limit, either raising
(``early_stopping_method="force"``) or asking the model for a final answer (``"generate"``). The
same rule, applied to the same events, tells whether the limit was reached. In a multi-agent
workflow the budget is shared by all agents, and the agent holding control when it runs out is
the one that reached it.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from obs_core.integration import Recorder, RunEnd, RunStart
from obs_llamaindex import _attributes as attributes
from obs_llamaindex._framework import Framework

STOP_FINAL_ANSWER = "final_answer"
STOP_MAX_ITERATIONS = "max_iterations"
STOP_HANDOFF = "handoff"
STOP_CANCELLED = "cancelled"


class FlowKind(enum.Enum):
    WORKFLOW = "workflow"
    AGENT = "agent"
    MULTI_AGENT = "multi_agent"


@dataclass(slots=True, eq=False, kw_only=True)
class Flow:
    """One workflow run. Touched only from the run's own tasks, one step at a time per event."""

    span_id: str
    kind: FlowKind
    step_limit: int | None = None
    early_stopping: Any = None
    agents: Mapping[str, Any] = field(default_factory=dict)
    start_event: Any = None
    capture: bool = False
    iterations: int = 0
    active_agent: str | None = None
    active_run: str | None = None
    turns: int = 0

    @property
    def limit_reached(self) -> bool:
        return self.step_limit is not None and self.iterations >= self.step_limit

    def step_parent(self, event: Any, recorder: Recorder, fw: Framework) -> str:
        """Account for a step about to handle ``event``; the run id its work belongs under."""
        if fw.agent_output and isinstance(event, fw.agent_output):
            self.iterations += 1
        if self.kind is not FlowKind.MULTI_AGENT:
            return self.span_id
        name = getattr(event, "current_agent_name", None)
        if isinstance(name, str) and name != self.active_agent:
            self._hand_over(name, recorder)
        return self.active_run or self.span_id

    def _hand_over(self, name: str, recorder: Recorder) -> None:
        if self.active_run is not None:
            recorder.end(self.active_run, RunEnd(max_iterations_reached=False,
                                                 stop_reason=STOP_HANDOFF))
        self.turns += 1
        run_id = f"{self.span_id}#agent-{self.turns}"
        agent = self.agents.get(name)
        start = attributes.agent_start(
            agent if agent is not None else _Named(name), step_limit=self.step_limit,
            early_stopping=self.early_stopping, start_event=self.start_event if self.turns == 1 else None,
            capture=self.capture, start_time_ns=None,
        )
        recorder.start(run_id, self.span_id, start)
        self.active_agent, self.active_run = name, run_id

    def close_turn(self, recorder: Recorder, *, result: Any, error: BaseException | str | None,
                   control_flow: bool) -> None:
        """End the agent turn in progress (multi-agent runs) with the workflow's outcome."""
        run_id, self.active_run = self.active_run, None
        if run_id is None:
            return
        limit = self.limit_reached
        if error is None:
            recorder.end(run_id, attributes.agent_end(
                result, limit_reached=limit,
                stop_reason=STOP_MAX_ITERATIONS if limit else STOP_FINAL_ANSWER,
                capture=self.capture))
        elif control_flow:
            recorder.error(run_id, error, control_flow=True, stop_reason=STOP_CANCELLED)
        else:
            recorder.error(run_id, error, limit_reached=limit,
                           stop_reason=STOP_MAX_ITERATIONS if limit else None)


@dataclass(frozen=True, slots=True)
class _Named:
    """Stands in for an agent the workflow did not list (its name is all that is known)."""

    name: str


def open_flow(span_id: str, instance: Any, bound_args: Any, *, tags: Mapping[str, Any],
              fw: Framework, capture: bool, start_time_ns: int) -> tuple[Flow, RunStart]:
    """The flow state and the run record for a workflow run span that just began; ``tags``
    are the instrument tags it runs under (LlamaIndex puts the workflow run id there)."""
    arguments = getattr(bound_args, "arguments", None)
    arguments = arguments if isinstance(arguments, Mapping) else {}
    start_event = arguments.get("start_event")
    if start_event is None:  # older releases: the span wraps ``run(**kwargs)`` itself
        start_event = arguments.get("kwargs")
    run_id = tags.get("llamaindex.run_id")
    if fw.single_agent and isinstance(instance, fw.single_agent):
        limit = attributes.step_limit_of(start_event, fw.default_max_iterations)
        early = attributes.early_stopping_of(start_event, instance)
        flow = Flow(span_id=span_id, kind=FlowKind.AGENT, step_limit=limit, early_stopping=early,
                    capture=capture)
        start = attributes.agent_start(instance, step_limit=limit, early_stopping=early,
                                       start_event=start_event, capture=capture,
                                       start_time_ns=start_time_ns)
        return flow, start
    start = attributes.workflow_start(instance, start_event=start_event, run_id=run_id,
                                      capture=capture, start_time_ns=start_time_ns)
    if fw.multi_agent and isinstance(instance, fw.multi_agent):
        agents = getattr(instance, "agents", None)
        flow = Flow(span_id=span_id, kind=FlowKind.MULTI_AGENT,
                    step_limit=attributes.step_limit_of(start_event, fw.default_max_iterations),
                    early_stopping=attributes.early_stopping_of(start_event, instance),
                    agents=agents if isinstance(agents, Mapping) else {},
                    start_event=start_event, capture=capture)
        return flow, start
    return Flow(span_id=span_id, kind=FlowKind.WORKFLOW, capture=capture), start


def step_event_of(bound_args: Any, fw: Framework) -> Any:
    """The workflow event a step was called with (steps name their parameter freely)."""
    arguments = getattr(bound_args, "arguments", None)
    if not isinstance(arguments, Mapping):
        return None
    for value in arguments.values():
        if isinstance(value, Mapping):
            for inner in value.values():
                if isinstance(inner, fw.workflow_event):
                    return inner
        elif isinstance(value, fw.workflow_event):
            return value
    return None
