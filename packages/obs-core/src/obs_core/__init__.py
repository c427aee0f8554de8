"""obs-core: framework-free observability for LLM applications on OpenTelemetry.

The public surface is re-exported here; everything in ``_``-prefixed modules is private.
"""

from __future__ import annotations

__version__ = "0.1.0"

from obs_core._guard import set_strict
from obs_core._recorder import Recorder
from obs_core._recorder_settings import RecorderSettings
from obs_core._selfmetrics import snapshot as self_metrics
from obs_core.config import (
    Obs,
    ObsConfigError,
    configure,
    current_settings,
    ensure_configured,
    flush,
    shutdown,
)
from obs_core.manual import (
    AgentRun,
    LLMCall,
    Retrieval,
    Run,
    ToolCall,
    agent_run,
    chain,
    llm_call,
    retrieval,
    tool_call,
)
from obs_core.openai_client import instrument_openai, uninstrument_openai
from obs_core.pricing import ModelPrice, PriceTable
from obs_core.runs import FinishedRun, RunEnd, RunObserver, RunStart
from obs_core.spans import (
    AgentSummary,
    RetrievedDocument,
    SpanKind,
    SpanRecord,
    TokenUsage,
    ToolCallStats,
    UsageSource,
)

__all__ = [
    "AgentRun",
    "AgentSummary",
    "FinishedRun",
    "LLMCall",
    "ModelPrice",
    "Obs",
    "ObsConfigError",
    "PriceTable",
    "Recorder",
    "RecorderSettings",
    "Retrieval",
    "RetrievedDocument",
    "Run",
    "RunEnd",
    "RunObserver",
    "RunStart",
    "SpanKind",
    "SpanRecord",
    "TokenUsage",
    "ToolCall",
    "ToolCallStats",
    "UsageSource",
    "__version__",
    "agent_run",
    "chain",
    "configure",
    "current_settings",
    "ensure_configured",
    "flush",
    "instrument_openai",
    "llm_call",
    "retrieval",
    "self_metrics",
    "set_strict",
    "shutdown",
    "tool_call",
    "uninstrument_openai",
]
