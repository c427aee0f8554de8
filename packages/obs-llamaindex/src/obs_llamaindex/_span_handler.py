"""The span handler registered on LlamaIndex's root instrumentation dispatcher.

It only routes: every dispatcher callback goes to the tracker under the guard, so a failure in
obs is counted and never reaches the application (the dispatcher would swallow it silently too,
but then nobody would know).
"""

from __future__ import annotations

import inspect
from typing import Any

from llama_index.core.instrumentation.span import BaseSpan
from llama_index.core.instrumentation.span_handlers import BaseSpanHandler
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from pydantic import PrivateAttr

from obs_core.integration import Recorder, current_settings, guard, guarded
from obs_llamaindex._framework import framework
from obs_llamaindex._identity import Identity
from obs_llamaindex._tracker import Tracker

_PROPAGATION_KEY = "obs.traceparent"
_propagator = TraceContextTextMapPropagator()


def private_tracker(handler: Any) -> Tracker:
    """``handler._tracker`` without pydantic's ``__getattr__``: private attributes of a model
    are found only after a failed normal lookup, which costs more than the rest of a dispatcher
    callback. The private values live in a plain slot dictionary."""
    tracker: Tracker = handler.__pydantic_private__["_tracker"]
    return tracker


class ObsSpanHandler(BaseSpanHandler[BaseSpan]):
    """Turns LlamaIndex dispatcher spans into obs runs (OpenTelemetry GenAI spans).

    ``instrument()`` registers one for you. To register it yourself, add it and its
    :class:`~obs_llamaindex.ObsEventHandler` (which tells it what each span was) to the root
    dispatcher: ``get_dispatcher().add_span_handler(h)`` and
    ``get_dispatcher().add_event_handler(ObsEventHandler(span_handler=h))``.
    """

    _tracker: Tracker = PrivateAttr()

    def __init__(self, *, tracer_provider: TracerProvider | None = None,
                 meter_provider: MeterProvider | None = None, recorder: Recorder | None = None,
                 defaults: Identity | None = None) -> None:
        super().__init__()
        recorder = recorder or Recorder(tracer_provider=tracer_provider,
                                        meter_provider=meter_provider,
                                        settings=current_settings())
        self._tracker = Tracker(recorder, fw=framework(), identity=defaults or Identity())

    @classmethod
    def class_name(cls) -> str:
        return "ObsSpanHandler"

    @property
    def recorder(self) -> Recorder:
        """The recorder this handler feeds (``open_run_count``, ``sweep()``...)."""
        return self._tracker.recorder

    @property
    def tracker(self) -> Tracker:
        return self._tracker

    @guarded("llamaindex.span_enter")
    def span_enter(self, id_: str, bound_args: inspect.BoundArguments, instance: Any | None = None,
                   parent_id: str | None = None, tags: dict[str, Any] | None = None,
                   **kwargs: Any) -> None:
        private_tracker(self).enter(id_, instance, parent_id, bound_args)

    @guarded("llamaindex.span_exit")
    def span_exit(self, id_: str, bound_args: inspect.BoundArguments, instance: Any | None = None,
                  result: Any | None = None, **kwargs: Any) -> None:
        private_tracker(self).exit(id_, result)

    @guarded("llamaindex.span_drop")
    def span_drop(self, id_: str, bound_args: inspect.BoundArguments, instance: Any | None = None,
                  err: BaseException | None = None, **kwargs: Any) -> None:
        private_tracker(self).drop(id_, err)

    @guarded("llamaindex.close")
    def close(self) -> None:
        """Called by ``Dispatcher.shutdown()``: ends every run still open."""
        self._tracker.close()

    def capture_propagation_context(self) -> dict[str, Any]:
        """Carry the current trace with a workflow run that continues in another process."""
        carrier: dict[str, str] = {}
        with guard("llamaindex.capture_context"):
            _propagator.inject(carrier)
        value = carrier.get("traceparent")
        return {_PROPAGATION_KEY: value} if value else {}

    @guarded("llamaindex.restore_context")
    def restore_propagation_context(self, context: dict[str, Any]) -> None:
        """Continue a trace captured elsewhere, unless this task already has one of its own
        (in-process runs inherit the caller's context and need nothing restored)."""
        value = context.get(_PROPAGATION_KEY)
        if not isinstance(value, str) or trace.get_current_span().get_span_context().is_valid:
            return
        otel_context.attach(_propagator.extract({"traceparent": value}))

    # The dispatcher calls the methods above directly; the abstract per-span hooks of the base
    # class are not used because obs keeps its own records.
    def new_span(self, id_: str, bound_args: inspect.BoundArguments, instance: Any | None = None,
                 parent_span_id: str | None = None, tags: dict[str, Any] | None = None,
                 **kwargs: Any) -> BaseSpan | None:
        return None

    def prepare_to_exit_span(self, id_: str, bound_args: inspect.BoundArguments,
                             instance: Any | None = None, result: Any | None = None,
                             **kwargs: Any) -> BaseSpan | None:
        return None

    def prepare_to_drop_span(self, id_: str, bound_args: inspect.BoundArguments,
                             instance: Any | None = None, err: BaseException | None = None,
                             **kwargs: Any) -> BaseSpan | None:
        return None
