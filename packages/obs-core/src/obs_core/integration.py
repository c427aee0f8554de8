"""The toolkit for integration packages (obs-langchain, obs-llamaindex, your own).

An integration translates its framework's events into :class:`Recorder` calls and nothing else;
these are the pieces it needs to do that safely. Application code does not need this module.
"""

from __future__ import annotations

from typing import Any

from obs_core import semconv as sc
from obs_core._guard import guard, guarded, is_strict, report
from obs_core._recorder import Recorder
from obs_core._recorder_settings import RecorderSettings
from obs_core._selfmetrics import count_drop
from obs_core._shared_recorder import shared_recorder
from obs_core._span_attributes import error_type_of
from obs_core._values import to_json, to_jsonable
from obs_core.config import current_settings, ensure_configured
from obs_core.runs import FinishedRun, RunEnd, RunId, RunObserver, RunStart
from obs_core.spans import SpanKind

__all__ = [
    "FinishedRun",
    "Recorder",
    "RecorderSettings",
    "RunEnd",
    "RunId",
    "RunObserver",
    "RunStart",
    "count_drop",
    "current_settings",
    "ensure_configured",
    "error_type_of",
    "guard",
    "guarded",
    "is_strict",
    "report",
    "reranker_start",
    "shared_recorder",
    "to_json",
    "to_jsonable",
]


def reranker_start(*, name: str, model: str | None = None, provider: str | None = None,
                   top_n: Any = None, input_count: Any = None, query: str | None = None,
                   start_time_ns: int | None = None) -> RunStart:
    """The start of a reranker run: any step that re-scores or filters retrieved documents for
    a query (a cross-encoder, an LLM judge, a similarity cut-off).

    One shape for every framework: a ``rerank {model}`` client span with the custom
    ``gen_ai.operation.name`` ``rerank``, ``obs.reranker.top_n`` and
    ``obs.reranker.input_document_count`` when they are counts, and ``query`` as the payload
    input (pass it only when payloads are wanted). End the run with a :class:`RunEnd` whose
    ``documents`` are the documents kept, in their new order with their new scores.
    """
    attributes: dict[str, Any] = {}
    if _count(top_n):
        attributes[sc.OBS_RERANKER_TOP_N] = top_n
    if _count(input_count):
        attributes[sc.OBS_RERANKER_INPUT_COUNT] = input_count
    return RunStart(kind=SpanKind.RERANKER, name=name, operation=sc.OP_RERANK, model=model,
                    provider=provider, attributes=attributes, inputs=query,
                    start_time_ns=start_time_ns)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
