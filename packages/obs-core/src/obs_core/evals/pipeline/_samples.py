"""From the finished runs of one trace to the sample the evaluators judge.

Runs arrive one by one (children before their root); :class:`TraceCollector` keeps the few that
matter for evaluation per open trace, bounded in runs per trace and in open traces, and when the
trace's root ends hands back a :class:`TraceSample`: question = the root's input (or the last
user message), answer = the root's output (or the last model output), contexts = the documents
retrievers returned, logprobs when a model reported them. Runs on the dispatcher thread.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from obs_core import _selfmetrics
from obs_core import semconv as sc
from obs_core.evals.base import EvalSample
from obs_core.runs import FinishedRun
from obs_core.spans import SpanKind

__all__ = ["EvalJob", "TraceCollector", "build_job"]

_QUESTION_KEYS = ("input", "question", "query", "query_str", "prompt", "text", "message")
_ANSWER_KEYS = ("output", "answer", "result", "response", "text", "content", "final_answer")
_MAX_TEXT = 100_000
_MAX_CONTEXTS = 100


@dataclass(frozen=True, kw_only=True)
class EvalJob:
    """One trace to evaluate: the sample, where to attach results, and which evaluators."""

    trace_id: str
    span_id: str
    """The evaluated span: the trace's root run."""
    sample: EvalSample
    evaluators: tuple[str, ...]
    attributes: Mapping[str, Any] = field(default_factory=dict)
    """Facts of the evaluated span for metrics (model, pipeline version, cohort, ids)."""
    forced: str | None = None
    """Why this trace skipped sampling (``error``, ``slow``, ``limit_hit``), if it did."""
    errored: bool = False
    duration_s: float = 0.0
    limit_hit: bool = False


class TraceCollector:
    """Per-trace buffers of runs, bounded; not thread-safe (the dispatcher owns it)."""

    def __init__(self, *, max_open_traces: int = 1_000, max_runs_per_trace: int = 256) -> None:
        self.max_open_traces = max(1, max_open_traces)
        self.max_runs_per_trace = max(1, max_runs_per_trace)
        self._open: OrderedDict[str, list[FinishedRun]] = OrderedDict()

    @property
    def open_traces(self) -> int:
        return len(self._open)

    def add(self, run: FinishedRun) -> list[FinishedRun] | None:
        """Keep ``run``; when it is its trace's root, return the trace's runs (root last)."""
        trace_id = run.trace_id
        if not trace_id:
            return None
        if run.is_root:
            runs = self._open.pop(trace_id, [])
            runs.append(run)
            return runs
        runs_so_far = self._open.get(trace_id)
        if runs_so_far is None:
            if len(self._open) >= self.max_open_traces:
                self._open.popitem(last=False)
                _selfmetrics.count_drop("evaluation_trace_evicted")
            runs_so_far = self._open[trace_id] = []
        if len(runs_so_far) >= self.max_runs_per_trace:
            _selfmetrics.count_drop("evaluation_trace_runs_full")
            return None
        if _worth_keeping(run):
            runs_so_far.append(run)
        return None


def _worth_keeping(run: FinishedRun) -> bool:
    if run.error_type is not None:
        return True
    if run.kind in (SpanKind.LLM, SpanKind.RETRIEVER, SpanKind.AGENT):
        return True
    return run.end is not None and bool(run.end.max_iterations_reached)


def build_job(runs: Sequence[FinishedRun], *, evaluators: tuple[str, ...] = ()) -> EvalJob:
    """The job for a finished trace whose root is ``runs[-1]``. Pure; may raise on odd data
    (the caller guards it)."""
    root = runs[-1]
    models = [r for r in runs if r.kind is SpanKind.LLM]
    question = _text(root.start.inputs, _QUESTION_KEYS, role="user")
    if not question:
        for model_run in models:
            question = _text(model_run.start.inputs, _QUESTION_KEYS, role="user")
            if question:
                break
    answer = _text(root.end.outputs if root.end else None, _ANSWER_KEYS, role="assistant")
    final = next((r for r in reversed(models) if r.end is not None), None)
    if not answer and final is not None and final.end is not None:
        answer = _text(final.end.outputs, _ANSWER_KEYS, role="assistant")
    contexts = [c for r in runs if r.kind is SpanKind.RETRIEVER for c in _contexts(r)]
    logprobs = _logprobs(final.end.outputs) if final is not None and final.end is not None else None
    sample = EvalSample(
        input=question[:_MAX_TEXT], output=answer[:_MAX_TEXT], contexts=contexts[:_MAX_CONTEXTS],
        logprobs=logprobs, metadata={"trace_id": root.trace_id, "span_id": root.span_id},
    )
    model = next((r.start.model for r in models if r.start.model), None)
    identity = {sc.GEN_AI_REQUEST_MODEL: model, sc.OBS_PIPELINE_VERSION: root.pipeline_version,
                sc.OBS_USER_COHORT: root.user_cohort}
    attributes: dict[str, Any] = {
        sc.OBS_EVALUATED_TRACE_ID: root.trace_id,
        sc.OBS_EVALUATED_SPAN_ID: root.span_id,
        **{key: value for key, value in identity.items() if value},
    }
    return EvalJob(
        trace_id=root.trace_id, span_id=root.span_id, sample=sample, evaluators=evaluators,
        attributes=attributes, errored=any(r.error_type is not None for r in runs),
        duration_s=root.duration_s,
        limit_hit=any(r.end is not None and bool(r.end.max_iterations_reached) for r in runs),
    )


def _text(value: Any, keys: Sequence[str], *, role: str, depth: int = 0) -> str:
    """The text a payload carries: a string, a message (list), or a dict's telling key."""
    if depth > 4 or value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        if "content" in value and ("role" in value or "type" in value):
            return _content(value.get("content"))
        for key in keys:
            if key in value:
                found = _text(value[key], keys, role=role, depth=depth + 1)
                if found:
                    return found
        messages = value.get("messages")
        return _text(messages, keys, role=role, depth=depth + 1) if messages is not None else ""
    if isinstance(value, (list, tuple)):
        return _from_messages(value, keys, role=role, depth=depth)
    content = getattr(value, "content", None)
    if isinstance(content, (str, list)):
        return _content(content)
    text = getattr(value, "text", None)
    return text if isinstance(text, str) else ""


def _from_messages(items: Sequence[Any], keys: Sequence[str], *, role: str, depth: int) -> str:
    """The last message of ``role`` (``human``/``ai`` spellings too); else the last text item."""
    aliases = {"user": ("user", "human"), "assistant": ("assistant", "ai")}[role]
    for item in reversed(items):
        item_role = item.get("role", item.get("type")) if isinstance(item, Mapping) else getattr(
            item, "type", getattr(item, "role", None))
        if item_role in aliases:
            return _text(item, keys, role=role, depth=depth + 1)
    for item in reversed(items):
        found = _text(item, keys, role=role, depth=depth + 1)
        if found:
            return found
    return ""


def _content(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            p if isinstance(p, str) else str(p.get("text", "")) if isinstance(p, Mapping) else ""
            for p in content
        )
    return ""


def _contexts(run: FinishedRun) -> Iterable[str]:
    end = run.end
    if end is None:
        return []
    if end.documents:
        texts = [d.content for d in end.documents if d.content]
        if texts:
            return texts
    outputs = end.outputs
    if isinstance(outputs, (list, tuple)):
        return [t for t in (_document_text(o) for o in outputs) if t]
    return []


def _document_text(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, Mapping):
        for key in ("page_content", "content", "text"):
            if isinstance(item.get(key), str):
                return str(item[key])
        return ""
    for attribute in ("page_content", "content", "text"):
        value = getattr(item, attribute, None)
        if isinstance(value, str):
            return value
    return ""


def _logprobs(outputs: Any) -> list[tuple[str, float]] | None:
    """``[{"token": ..., "logprob": ...}]`` found under ``logprobs`` in the final output."""
    candidates = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    for item in reversed(candidates):
        raw = item.get("logprobs") if isinstance(item, Mapping) else None
        if isinstance(raw, Mapping):
            raw = raw.get("content")
        if isinstance(raw, list) and raw:
            pairs = [
                (str(t["token"]), float(t["logprob"])) for t in raw
                if isinstance(t, Mapping) and "token" in t and isinstance(t.get("logprob"), (int, float))
            ]
            return pairs or None
    return None
