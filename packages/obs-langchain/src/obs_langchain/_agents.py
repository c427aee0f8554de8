"""Agent loops recognised from framework facts, and how and why they stopped.

Three kinds of agent loop run through LangChain callbacks:

* LangChain v1 ``create_agent`` graphs, which mark their runs with the metadata
  ``ls_integration="langchain_create_agent"`` (and ``lc_agent_name`` when named). Any LangGraph
  graph carrying ``lc_agent_name`` counts too: that is LangGraph's own convention for agent
  boundaries. A run whose enclosing agent carries the same marker belongs to that agent (its
  nodes inherit the metadata); a different name starts a sub-agent.
* Classic ``AgentExecutor`` loops. Classic chains start their run with ``serialized=None`` and
  keep their limits only on the instance, so the executor is found as ``self`` of the
  ``invoke``/``ainvoke`` (or iterator) frame that emitted the start event, checked with
  ``isinstance`` against the class of the loaded module. Only the frame that emitted the event is
  looked at (the first one outside obs and langchain-core's dispatch), so the runs an executor
  starts inside its loop are never mistaken for it.
* Limits: LangGraph's ``recursion_limit`` (read from the running config inside the loop),
  ``GraphRecursionError``, the ``ModelCallLimitMiddleware``/``ToolCallLimitMiddleware`` of
  ``create_agent`` (an exception, or a node that jumps to the end), and the executor's
  ``max_iterations``/``max_execution_time`` compared with the rounds it actually ran.

Nothing here is decided from the text of a run name or an answer.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from obs_langchain import _frameworks as fw

CREATE_AGENT_INTEGRATION = "langchain_create_agent"
"""The ``ls_integration`` metadata value ``langchain.agents.create_agent`` sets on its graph."""

_ENTRY_FRAMES = frozenset({"invoke", "ainvoke", "__iter__", "__aiter__"})
_MAX_FRAMES = 16
_DISPATCH_MODULES = ("obs_langchain.", "obs_core.", "langchain_core.callbacks.", "contextlib")

Marker = tuple[object, object]


@dataclass(slots=True, eq=False)
class AgentRun:
    """What the handler learns about one agent run while it is open."""

    run_id: Any
    marker: Marker | None = None
    """Graph agents: ``(ls_integration, lc_agent_name)`` inherited by the agent's own runs."""
    executor: bool = False
    step_limit_known: bool = False
    limit_stop: str | None = None
    """Why a limit middleware ended the loop gracefully, when one did."""
    interrupted: bool = False
    """A run inside the loop raised a LangGraph interrupt: the loop paused for a human."""
    model_calls: int = 0
    # Classic executor facts.
    max_iterations: int | None = None
    max_execution_time: float | None = None
    return_direct: frozenset[str] = frozenset()
    rounds: int = 0
    calls_at_last_action: int = -1
    last_tool: str | None = None
    finish: tuple[bool, str] | None = None
    started: float = field(default_factory=time.monotonic)


# ---------------------------------------------------------------------------- recognition
def graph_marker(metadata: Mapping[str, Any] | None) -> Marker | None:
    """The agent marker a LangGraph run carries, if any."""
    if not metadata:
        return None
    name = metadata.get("lc_agent_name")
    integration = metadata.get("ls_integration")
    if name is None and integration != CREATE_AGENT_INTEGRATION:
        return None
    return (integration, name)


def graph_agent_name(metadata: Mapping[str, Any], run_name: str) -> str:
    name = metadata.get("lc_agent_name")
    return name if isinstance(name, str) and name else run_name


def starts_graph_agent(marker: Marker | None, enclosing: AgentRun | None) -> bool:
    """A marked run starts an agent unless it is one of its enclosing agent's own runs."""
    return marker is not None and (enclosing is None or enclosing.marker != marker)


def _emitter(frame: FrameType | None) -> FrameType | None:
    """The frame that emitted the callback event: the first one outside obs and outside
    langchain-core's callback dispatch."""
    for _ in range(_MAX_FRAMES):
        if frame is None:
            return None
        module = frame.f_globals.get("__name__", "")
        if not (isinstance(module, str) and module.startswith(_DISPATCH_MODULES)):
            return frame
        frame = frame.f_back
    return None


def _executor_from_frames(start: FrameType | None) -> Any:
    executors = fw.loaded_classes(*fw.AGENT_EXECUTORS)
    if not executors:
        return None
    frame = _emitter(start)
    if frame is None or frame.f_code.co_name not in _ENTRY_FRAMES:
        return None
    owner = frame.f_locals.get("self")
    if isinstance(owner, executors):
        return owner
    iterators = fw.loaded_classes(*fw.AGENT_EXECUTOR_ITERATORS)
    if iterators and isinstance(owner, iterators):
        return getattr(owner, "agent_executor", None)
    return None


def _serialized_executor(serialized: Mapping[str, Any] | None) -> bool:
    ident = serialized.get("id") if serialized else None
    if not isinstance(ident, list) or not ident or ident[-1] not in _EXECUTOR_CLASS_NAMES:
        return False  # the common case, decided without building the module path
    module = ".".join(str(part) for part in ident[:-1])
    return (module, ident[-1]) in fw.AGENT_EXECUTORS


_EXECUTOR_CLASS_NAMES = frozenset(name for _, name in fw.AGENT_EXECUTORS)


def classic_executor(serialized: Mapping[str, Any] | None) -> tuple[bool, Any]:
    """``(is an AgentExecutor run, the executor instance when found)``."""
    if serialized is not None and not _serialized_executor(serialized):
        return False, None
    executor = _executor_from_frames(sys._getframe(1))
    if executor is not None:
        return True, executor
    return _serialized_executor(serialized), None


def executor_run(run_id: Any, executor: Any) -> AgentRun:
    """Limits and direct-return tools of a classic executor, read from the instance."""
    agent = AgentRun(run_id=run_id, executor=True)
    if executor is None:
        return agent
    max_iterations = getattr(executor, "max_iterations", None)
    if isinstance(max_iterations, int) and not isinstance(max_iterations, bool):
        agent.max_iterations = max_iterations
        agent.step_limit_known = True
    max_time = getattr(executor, "max_execution_time", None)
    if isinstance(max_time, (int, float)) and not isinstance(max_time, bool):
        agent.max_execution_time = float(max_time)
    tools = getattr(executor, "tools", None) or ()
    agent.return_direct = frozenset(
        t.name for t in tools if getattr(t, "return_direct", False) and isinstance(t.name, str))
    return agent


# ---------------------------------------------------------------------------- limits
def recursion_limit_in_context() -> int | None:
    """The ``recursion_limit`` of the config running right now (a node of the graph)."""
    try:
        from langchain_core.runnables.config import var_child_runnable_config
    except ImportError:  # pragma: no cover - langchain-core without the context variable
        return None
    config = var_child_runnable_config.get()
    limit = config.get("recursion_limit") if config else None
    return limit if isinstance(limit, int) and not isinstance(limit, bool) else None


def _middleware_stop(node: str) -> str | None:
    base = node.rpartition(".")[0].partition("[")[0]
    if not base:
        return None
    model_limit = fw.loaded_class(*fw.MODEL_CALL_LIMIT_MIDDLEWARE)
    if model_limit is not None and base == model_limit.__name__:
        return "model_call_limit"
    tool_limit = fw.loaded_class(*fw.TOOL_CALL_LIMIT_MIDDLEWARE)
    if tool_limit is not None and base == tool_limit.__name__:
        return "tool_call_limit"
    return None


def node_limit_stop(node: str, outputs: Any) -> str | None:
    """A call-limit middleware node (named ``<Middleware>.<hook>`` by ``create_agent``) that
    ended the loop by jumping to the end."""
    if not isinstance(outputs, Mapping) or outputs.get("jump_to") != "end":
        return None
    return _middleware_stop(node)


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a failed run should be recorded."""

    control_flow: bool = False
    cancelled: bool = False
    limit_reached: bool = False
    stop_reason: str | None = None
    step_limit: int | None = None


def classify(error: BaseException) -> Outcome:
    """Control flow, cancellation, a limit, or a plain failure; by exception type only."""
    if isinstance(error, (asyncio.CancelledError, GeneratorExit)):
        return Outcome(cancelled=True, stop_reason="cancelled")
    if isinstance(error, fw.loaded_classes(*fw.CONTROL_FLOW)):
        interrupt = fw.loaded_class("langgraph.errors", "GraphInterrupt")
        handoff = fw.loaded_class("langgraph.errors", "ParentCommand")
        reason = ("interrupted" if interrupt is not None and isinstance(error, interrupt)
                  else "handoff" if handoff is not None and isinstance(error, handoff) else None)
        return Outcome(control_flow=True, stop_reason=reason)
    if isinstance(error, fw.loaded_classes(*fw.RECURSION_LIMIT)):
        return Outcome(limit_reached=True, stop_reason="recursion_limit")
    if isinstance(error, fw.loaded_classes(*fw.MODEL_CALL_LIMIT_ERRORS)):
        limit = getattr(error, "run_limit", None)
        if limit is None:
            limit = getattr(error, "thread_limit", None)
        return Outcome(limit_reached=True, stop_reason="model_call_limit",
                       step_limit=limit if isinstance(limit, int) else None)
    if isinstance(error, fw.loaded_classes(*fw.TOOL_CALL_LIMIT_ERRORS)):
        return Outcome(limit_reached=True, stop_reason="tool_call_limit")
    return Outcome()


# ---------------------------------------------------------------------------- classic executor
def executor_action(agent: AgentRun, tool: Any) -> None:
    """One action of the executor: a new round when a model call came since the last one."""
    if agent.model_calls != agent.calls_at_last_action:
        agent.rounds += 1
        agent.calls_at_last_action = agent.model_calls
    agent.last_tool = tool if isinstance(tool, str) else None


def executor_finish(agent: AgentRun) -> tuple[bool, str]:
    """``(limit reached, stop reason)`` when the executor returns its answer.

    The executor only stops without the model's final answer when its loop condition failed:
    as many rounds as ``max_iterations`` (unless the last tool returns directly), or the time
    budget spent with no model call after the last action.
    """
    direct = agent.last_tool is not None and agent.last_tool in agent.return_direct
    forced = agent.model_calls == agent.calls_at_last_action
    if agent.max_iterations is not None and agent.rounds >= agent.max_iterations and not (
            direct and forced):
        return True, "max_iterations"
    if (agent.max_execution_time is not None and forced and not direct
            and time.monotonic() - agent.started >= agent.max_execution_time):
        return True, "max_execution_time"
    if direct and forced:
        return False, "tool_return_direct"
    return False, "final_answer"


def graph_agent_stop(agent: AgentRun, outputs: Any) -> tuple[bool, str]:
    """``(limit reached, stop reason)`` when a graph agent returns."""
    if agent.limit_stop is not None:
        return True, agent.limit_stop
    if agent.interrupted or (isinstance(outputs, Mapping) and "__interrupt__" in outputs):
        return False, "interrupted"
    return False, "final_answer"
