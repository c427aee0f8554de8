"""The recorder: framework run events in, OpenTelemetry spans out.

Integrations call :meth:`Recorder.start`, :meth:`Recorder.end` and :meth:`Recorder.error` with
the framework's run ids. The recorder keeps one lock-protected map from run id to open run,
derives parents from it (a run without a known parent becomes a child of whatever OpenTelemetry
span is current, such as a user's request span), rolls model and tool calls up onto the
enclosing agent and the local root, and guarantees that every span it starts is ended exactly
once: by its end or error event, or by the sweeper when its run was abandoned.

Every public method is safe to call from any thread or task, in any order, with any input: it
never raises into the caller (see :mod:`obs_core._guard`).
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import Span, Status, StatusCode, TracerProvider

from obs_core import _selfmetrics
from obs_core import semconv as sc
from obs_core._accounting import AgentLoop, Rollup
from obs_core._guard import guard
from obs_core._recorder_settings import RecorderSettings, observed_kinds, scrubbers_for
from obs_core._run_failures import Failure, safe_message, stacktrace, suppressed
from obs_core._span_attributes import (
    bounded,
    content_attributes,
    end_attributes,
    error_type_of,
    otel_kind,
    span_name,
    start_attributes,
)
from obs_core._sweeper import sweeper_thread
from obs_core.runs import FinishedRun, RunEnd, RunId, RunStart
from obs_core.spans import AgentSummary, SpanKind

logger = logging.getLogger("obs.recorder")

_SCHEMA_URL = "https://opentelemetry.io/schemas/1.41.1"
_ENDED_MEMORY = 1024
"""Ended run ids remembered to tell a double end from an end without start (the drop's name
only); a few traces' worth is enough, and each id held is memory a long-lived process keeps."""


@dataclass(slots=True, eq=False)
class _Run:
    run_id: RunId
    start: RunStart
    span: Span | None
    ctx: otel_context.Context
    parent: _Run | None
    agent: AgentLoop | None
    rollups: tuple[Rollup, ...]
    is_root: bool
    """First obs span of its trace here (for hidden runs: their first visible descendant is)."""
    started: float
    start_unix_ns: int
    identity: dict[str, str | None]
    own_rollup: Rollup | None = None
    first_chunk: float | None = None
    token: contextvars.Token[Any] | None = None


_recorders: weakref.WeakSet[Recorder] = weakref.WeakSet()
_OK = Status(StatusCode.OK)


def _open_runs_everywhere() -> int:
    return sum(r.open_run_count for r in list(_recorders))


_selfmetrics.register_gauge("open_spans", _open_runs_everywhere)


class Recorder:
    """Turns start/end/error events keyed by run id into OpenTelemetry spans.

    One recorder may serve any number of concurrent runs; integrations usually hold one each.
    """

    def __init__(self, *, tracer_provider: TracerProvider | None = None,
                 meter_provider: MeterProvider | None = None,
                 settings: RecorderSettings | None = None) -> None:
        from obs_core import __version__
        from obs_core._metrics_hook import span_metrics_for

        self._settings = settings or RecorderSettings()
        self._observed: tuple[RecorderSettings, frozenset[SpanKind] | None] | None = None
        provider = tracer_provider or trace.get_tracer_provider()
        self._tracer = provider.get_tracer("obs", __version__, schema_url=_SCHEMA_URL)
        self._meter_provider = meter_provider
        self._metrics = span_metrics_for(meter_provider, self._settings.span_listeners)
        self._runs: dict[RunId, _Run] = {}
        self._ended: OrderedDict[RunId, None] = OrderedDict()
        self._skipped: OrderedDict[RunId, None] = OrderedDict()
        self._lock = threading.Lock()
        self._sweeper: threading.Thread | None = None
        self._stop = threading.Event()
        _recorders.add(self)

    @property
    def settings(self) -> RecorderSettings:
        return self._settings

    @settings.setter
    def settings(self, value: RecorderSettings) -> None:
        """Reconfiguration: later events use the new settings; open runs keep their spans."""
        from obs_core._metrics_hook import span_metrics_for

        if tuple(value.span_listeners) != tuple(self._settings.span_listeners):
            self._metrics = span_metrics_for(self._meter_provider, value.span_listeners)
        self._settings = value

    # ------------------------------------------------------------------ public events
    @property
    def open_run_count(self) -> int:
        return len(self._runs)

    def start(self, run_id: RunId, parent_run_id: RunId | None, start: RunStart) -> None:
        """A run began. ``parent_run_id`` is the framework's parent, if any."""
        with guard("recorder.start"):
            self._start(run_id, parent_run_id, start)

    def end(self, run_id: RunId, end: RunEnd | None = None) -> None:
        """A run finished successfully."""
        with guard("recorder.end"):
            self._finish(run_id, end or RunEnd(), None)

    def error(self, run_id: RunId, error: BaseException | str, *, control_flow: bool = False,
              limit_reached: bool = False, stop_reason: str | None = None,
              attributes: Mapping[str, Any] | None = None) -> None:
        """A run failed with ``error``.

        ``control_flow``: the exception is how the framework steers (an interrupt, a handoff, a
        completed workflow), so the span ends normally. ``limit_reached``: an agent stopped
        because it hit its step limit (the span is still an error: the run raised).
        """
        with guard("recorder.error"):
            if control_flow:
                extra = dict(attributes or {})
                extra[sc.OBS_CONTROL_FLOW] = error_type_of(error)
                self._finish(run_id, RunEnd(attributes=extra, stop_reason=stop_reason), None)
                return
            self._finish(run_id, None, Failure(error, limit_reached, stop_reason,
                                                dict(attributes or {})))

    def first_chunk(self, run_id: RunId) -> None:
        """The first streamed chunk of a model call arrived (time to first chunk)."""
        with guard("recorder.first_chunk"):
            run = self._runs.get(run_id)
            if run is not None and run.first_chunk is None:
                run.first_chunk = time.perf_counter()

    def set_attributes(self, run_id: RunId, attributes: Mapping[str, Any]) -> None:
        """Add attributes to an open run's span."""
        with guard("recorder.set_attributes"):
            run = self._runs.get(run_id)
            if run is not None and run.span is not None:
                run.span.set_attributes(bounded(attributes, self.settings.max_attribute_length))

    def set_step_limit(self, run_id: RunId, limit: int) -> None:
        """The agent's step limit became known after it started."""
        with guard("recorder.set_step_limit"), self._lock:
            run = self._runs.get(run_id)
            if run is not None and run.agent is not None and run.start.kind is SpanKind.AGENT:
                run.agent.step_limit = limit

    def agent_summary(self, run_id: RunId) -> AgentSummary | None:
        """The live summary of an open agent run (``None`` for other runs)."""
        with self._lock:
            run = self._runs.get(run_id)
            if run is None or run.agent is None or run.start.kind is not SpanKind.AGENT:
                return None
            return run.agent.summary(limit_reached=False, stop_reason=None)

    def is_open(self, run_id: RunId) -> bool:
        return run_id in self._runs

    def span_of(self, run_id: RunId) -> Span | None:
        """The span of an open run, or of its nearest visible ancestor for hidden runs."""
        run = self._runs.get(run_id)
        return trace.get_current_span(run.ctx) if run is not None else None

    def context_of(self, run_id: RunId) -> otel_context.Context | None:
        run = self._runs.get(run_id)
        return run.ctx if run is not None else None

    def activate(self, run_id: RunId) -> None:
        """Make the run's span current in the calling context, so spans that other code opens
        while the run executes (a user's own span, an HTTP client instrumentation) nest under
        it. Undone automatically when the run ends, if it ends in the same context."""
        with guard("recorder.activate"):
            run = self._runs.get(run_id)
            if run is not None and run.token is None:
                run.token = otel_context.attach(run.ctx)

    def sweep(self, *, max_age_s: float | None = None) -> int:
        """End runs open longer than ``max_age_s`` (default: the orphan timeout) as orphans."""
        swept = 0
        with guard("recorder.sweep"):
            limit = self.settings.orphan_timeout_s if max_age_s is None else max_age_s
            now = time.perf_counter()
            with self._lock:
                stale = [r for r in self._runs.values() if now - r.started >= limit]
            # Children first, so a parent's roll-up sees them.
            for run in sorted(stale, key=lambda r: r.started, reverse=True):
                self._finish(run.run_id, None, Failure(sc.ERROR_ORPHANED, False, None,
                                                        {sc.OBS_ORPHAN_REASON: "timeout"}),
                             orphan=True)
            swept = len(stale)
        return swept

    def close(self) -> None:
        """Stop the sweeper and end every open run as an orphan (``obs.orphan.reason=shutdown``)."""
        self._stop.set()
        with self._lock:
            leftovers = sorted(self._runs.values(), key=lambda r: r.started, reverse=True)
        for run in leftovers:
            with guard("recorder.close"):
                self._finish(run.run_id, None, Failure(sc.ERROR_ORPHANED, False, None,
                                                        {sc.OBS_ORPHAN_REASON: "shutdown"}),
                             orphan=True)

    # ------------------------------------------------------------------ internals
    def _start(self, run_id: RunId, parent_run_id: RunId | None, start: RunStart) -> None:
        settings = self._settings
        if suppressed():
            # obs's own work (an evaluation judge, an exporter) must not trace itself.
            with self._lock:
                self._skipped[run_id] = None
                if len(self._skipped) > 4096:
                    self._skipped.popitem(last=False)
            return
        with self._lock:
            if run_id in self._runs:
                _selfmetrics.count_drop("duplicate_start")
                return
            if len(self._runs) >= settings.max_open_runs:
                _selfmetrics.count_drop("open_runs_limit")
                return
            parent = self._runs.get(parent_run_id) if parent_run_id is not None else None
        if self._sweeper is None:
            self._ensure_sweeper()
        if parent is None:
            ctx = otel_context.get_current()
            inherited: Mapping[str, str | None] = settings.defaults
            rollups: tuple[Rollup, ...] = ()
            agent = None
        else:
            ctx = parent.ctx
            inherited = parent.identity
            rollups = parent.rollups
            agent = parent.agent
        # Spelled out rather than a loop over field names: this runs on every run start.
        identity = {
            "conversation_id": start.conversation_id or inherited.get("conversation_id"),
            "user_id": start.user_id or inherited.get("user_id"),
            "user_cohort": start.user_cohort or inherited.get("user_cohort"),
            "pipeline_version": start.pipeline_version or inherited.get("pipeline_version"),
        }
        # Hidden plumbing passes rootness down to its first visible descendant.
        is_root = parent is None or (parent.span is None and parent.is_root)
        span: Span | None = None
        own: Rollup | None = None
        if not start.hidden:
            attrs = start_attributes(start, is_root=is_root, identity=identity,
                                     max_length=settings.max_attribute_length)
            span = self._tracer.start_span(
                span_name(start), context=ctx, kind=otel_kind(start.kind), attributes=attrs,
                start_time=start.start_time_ns,
            )
            if settings.content_on_spans and start.inputs is not None:
                # After the start: scrubbing may number placeholders per trace, and a root
                # span's trace id exists only now.
                span.set_attributes(self._content_attributes(start.kind, start.inputs,
                                                             inputs=True, span=span))
            ctx = trace.set_span_in_context(span, ctx)
            if start.kind is SpanKind.AGENT:
                agent = AgentLoop(name=start.name, step_limit=start.agent_step_limit)
                own = agent.rollup
            elif is_root:
                own = Rollup()
            if own is not None:
                rollups = (*rollups, own)
        run = _Run(run_id=run_id, start=start, span=span, ctx=ctx, parent=parent, agent=agent,
                   rollups=rollups, is_root=is_root,
                   started=time.perf_counter(), start_unix_ns=start.start_time_ns or time.time_ns(),
                   identity=identity, own_rollup=own)
        with self._lock:
            self._runs[run_id] = run

    def _finish(self, run_id: RunId, end: RunEnd | None, failure: Failure | None, *,
                orphan: bool = False) -> None:
        with self._lock:
            run = self._runs.pop(run_id, None)
            if run is None:
                if self._skipped.pop(run_id, False) is None:
                    return  # a run started under suppressed instrumentation
                _selfmetrics.count_drop("double_end" if run_id in self._ended else "end_without_start")
                return
            self._ended[run_id] = None
            if len(self._ended) > _ENDED_MEMORY:
                self._ended.popitem(last=False)
            duration = time.perf_counter() - run.started
            if end is not None and end.end_time_ns is not None and run.start.start_time_ns:
                duration = max(0.0, (end.end_time_ns - run.start.start_time_ns) / 1e9)
            cost = self._account(run, end, failure, duration)
        self._detach(run)
        if orphan:
            _selfmetrics.count_orphan()
        span = run.span
        if span is not None:
            self._close_span(run, span, end, failure, cost)
        if (span is not None and self._observes(run.start.kind)
                and span.get_span_context().trace_flags.sampled):
            self._notify(run, end, failure, duration, cost)

    def _account(self, run: _Run, end: RunEnd | None, failure: Failure | None,
                 duration: float) -> float | None:
        """Roll this run up into its agent and ancestors; the run's own cost. Under the lock."""
        kind = run.start.kind
        if run.start.hidden:
            return None
        cost: float | None = None
        if kind is SpanKind.LLM or kind is SpanKind.EMBEDDING:
            usage = end.usage if end is not None else None
            model = (end.response_model if end is not None else None) or run.start.model
            cost = self.settings.prices.cost(
                model, usage, cached_response=bool(end and end.cached_response),
                failed=failure is not None)
            for rollup in run.rollups:
                if kind is SpanKind.LLM:
                    rollup.add_llm(usage, cost)
                elif usage is not None:
                    rollup.input_tokens += usage.input_tokens
                    rollup.total_tokens += usage.total
                    rollup.cost_usd += cost or 0.0
            if kind is SpanKind.LLM and run.agent is not None:
                run.agent.step_count += 1
        elif kind is SpanKind.TOOL:
            for rollup in run.rollups:
                rollup.tool_calls += 1
            if run.agent is not None:
                run.agent.record_tool(run.start.name, duration * 1000.0, failure is not None)
        if failure is not None:
            for rollup in run.rollups:
                if rollup is not run.own_rollup:
                    rollup.errors += 1
        return cost

    def _close_span(self, run: _Run, span: Span, end: RunEnd | None, failure: Failure | None,
                    cost: float | None) -> None:
        settings = self.settings
        kind = run.start.kind
        attrs: dict[str, Any] = {}
        if end is not None:
            attrs.update(end_attributes(kind, end, max_length=settings.max_attribute_length))
            if settings.content_on_spans and end.outputs is not None:
                attrs.update(self._content_attributes(kind, end.outputs, inputs=False,
                                                      span=span))
        if cost is not None:
            attrs[sc.OBS_USAGE_COST_USD] = round(cost, 10)
            attrs[sc.OBS_PRICE_TABLE_VERSION] = settings.prices.version
        if run.first_chunk is not None:
            attrs[sc.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = run.first_chunk - run.started
        if run.agent is not None and kind is SpanKind.AGENT:
            limit_reached = bool((end and end.max_iterations_reached) or
                                 (failure and failure.limit_reached))
            stop = (end.stop_reason if end else None) or (failure.stop_reason if failure else None)
            if stop is None:
                stop = "max_iterations" if limit_reached else ("error" if failure else "completed")
            with self._lock:
                attrs.update(run.agent.attributes(limit_reached=limit_reached, stop_reason=stop))
        elif run.own_rollup is not None:
            with self._lock:
                attrs.update(run.own_rollup.attributes())
        if failure is not None:
            attrs[sc.ERROR_TYPE] = error_type_of(failure.error)
            attrs.update(bounded(failure.attributes, settings.max_attribute_length))
            span.set_attributes(attrs)
            scrub = self._scrubbers(span)[0]
            if isinstance(failure.error, BaseException):
                message = f"{type(failure.error).__name__}: {safe_message(failure.error)}"[:1024]
                exception_attrs = None
                if scrub is not None:
                    # Exception text is user data too (it often quotes the input).
                    message = scrub(message)
                    exception_attrs = {
                        "exception.message": scrub(safe_message(failure.error)[:4096]),
                        "exception.stacktrace": scrub(stacktrace(failure.error)),
                    }
                span.record_exception(failure.error, attributes=exception_attrs)
            else:
                message = failure.error
            span.set_status(Status(StatusCode.ERROR, message))
        else:
            if attrs:
                span.set_attributes(attrs)
            span.set_status(_OK)
        span.end(end_time=end.end_time_ns if end is not None else None)
        if self._metrics is not None:
            with guard("recorder.metrics"):
                self._metrics(span)

    def _content_attributes(self, kind: SpanKind, value: Any, *, inputs: bool,
                            span: Span) -> dict[str, Any]:
        scrub, scrub_value = self._scrubbers(span)
        return content_attributes(kind, value, inputs=inputs, scrub=scrub,
                                  scrub_value=scrub_value,
                                  max_length=self.settings.max_attribute_length)

    def _scrubbers(self, span: Span | None) -> tuple[Callable[[str], str] | None,
                                                     Callable[[Any], Any] | None]:
        return scrubbers_for(self.settings, span)

    def _observes(self, kind: SpanKind) -> bool:
        """Whether any observer wants runs of ``kind``. Observers may declare ``run_kinds`` (a
        set of kinds); the finished-run record is then not even built for other runs (payload
        capture, for one, ignores chains and agents)."""
        settings = self.settings
        cached = self._observed
        if cached is None or cached[0] is not settings:
            cached = (settings, observed_kinds(settings.observers))
            self._observed = cached
        kinds = cached[1]
        return kinds is None or kind in kinds

    def _notify(self, run: _Run, end: RunEnd | None, failure: Failure | None, duration: float,
                cost: float | None) -> None:
        span_ctx = run.span.get_span_context() if run.span is not None else None
        # As exported: the nearest visible ancestor (hidden runs have no span), or the
        # application's own span around a root run.
        parent_ctx = getattr(run.span, "parent", None)
        finished = FinishedRun(
            run_id=run.run_id,
            trace_id=f"{span_ctx.trace_id:032x}" if span_ctx and span_ctx.is_valid else "",
            span_id=f"{span_ctx.span_id:016x}" if span_ctx and span_ctx.is_valid else "",
            parent_span_id=f"{parent_ctx.span_id:016x}" if parent_ctx and parent_ctx.is_valid else None,
            kind=run.start.kind, name=run.start.name, start=run.start, end=end,
            error_type=error_type_of(failure.error) if failure else None,
            error_message=self._error_message(failure, run.span),
            duration_s=duration, cost_usd=cost, start_time_unix_ns=run.start_unix_ns,
            is_root=run.is_root, conversation_id=run.identity.get("conversation_id"),
            user_id=run.identity.get("user_id"), user_cohort=run.identity.get("user_cohort"),
            pipeline_version=run.identity.get("pipeline_version"),
        )
        for observer in self.settings.observers:
            with guard("recorder.observer"):
                observer.on_run_end(finished)

    def _error_message(self, failure: Failure | None, span: Span | None) -> str | None:
        if failure is None:
            return None
        text = (safe_message(failure.error) if isinstance(failure.error, BaseException)
                else failure.error)[:1024]
        scrub = self._scrubbers(span)[0]
        return scrub(text) if scrub is not None else text

    @staticmethod
    def _detach(run: _Run) -> None:
        """Undo :meth:`activate` without OpenTelemetry's "Failed to detach context" noise: only
        when we are still in the context that attached, and only if our span is still current."""
        token = run.token
        if token is None:
            return
        run.token = None
        var = getattr(token, "var", None)
        if var is None:
            return
        try:
            if var.get() is run.ctx:
                var.reset(token)
        except (ValueError, LookupError):
            pass  # ended from another context: the attaching context is gone or not ours

    def _ensure_sweeper(self) -> None:
        if self._sweeper is not None:
            return
        with self._lock:
            if self._sweeper is not None:
                return  # type: ignore[unreachable]  # another thread won the race
            interval = max(0.05, min(60.0, self.settings.orphan_timeout_s / 2))
            thread = sweeper_thread(self, interval, self._stop)
            self._sweeper = thread
        thread.start()
