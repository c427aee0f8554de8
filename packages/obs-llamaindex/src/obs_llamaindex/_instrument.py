"""``instrument()``: register obs on LlamaIndex's root instrumentation dispatcher, reversibly.

The root dispatcher sees every span and event LlamaIndex emits (all component dispatchers
propagate to it), so one span handler and one event handler there cover query engines,
retrievers, models, tools and workflows alike. The legacy callback manager is not used.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from llama_index.core.instrumentation import (  # type: ignore[attr-defined] # re-exported without __all__
    get_dispatcher,
)
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import TracerProvider

from obs_core.integration import Recorder, ensure_configured
from obs_llamaindex._event_handler import ObsEventHandler
from obs_llamaindex._identity import Identity
from obs_llamaindex._span_handler import ObsSpanHandler

logger = logging.getLogger("obs.llamaindex")

_lock = threading.Lock()
_active: Instrumentation | None = None


@dataclass(eq=False, kw_only=True)
class Instrumentation:
    """What ``instrument()`` registered; ``uninstrument()`` takes it away again."""

    span_handler: ObsSpanHandler
    event_handler: ObsEventHandler
    dispatcher: Any = field(repr=False)
    """The LlamaIndex root dispatcher the handlers were added to."""

    @property
    def recorder(self) -> Recorder:
        return self.span_handler.recorder

    @property
    def active(self) -> bool:
        return _active is self

    def uninstrument(self) -> None:
        """Remove both handlers, leaving the dispatcher's handler lists exactly as they were
        without them, and end any run still open. Idempotent."""
        global _active
        with _lock:
            if _active is not self:
                return
            _active = None
            _remove(self.dispatcher.span_handlers, self.span_handler)
            _remove(self.dispatcher.event_handlers, self.event_handler)
        self.span_handler.close()


def _remove(handlers: list[Any], handler: Any) -> None:
    # By identity: pydantic handlers compare equal field by field, so ``list.remove`` could
    # take out someone else's handler.
    handlers[:] = [h for h in handlers if h is not handler]


def instrument(*, tracer_provider: TracerProvider | None = None,
               meter_provider: MeterProvider | None = None, conversation_id: str | None = None,
               user_id: str | None = None, user_cohort: str | None = None,
               pipeline_version: str | None = None) -> Instrumentation:
    """Trace everything LlamaIndex does from now on; returns the handle to undo it.

    Without a ``tracer_provider``, spans go to the global one, and obs is configured with its
    defaults first if nothing set OpenTelemetry up. The identity options are defaults for every
    trace; ``obs_llamaindex.session()`` overrides them per request. Calling it again while
    instrumented returns the existing handle unchanged.
    """
    global _active
    with _lock:
        if _active is not None:
            logger.debug("obs: LlamaIndex is already instrumented; keeping the existing handlers")
            return _active
        if tracer_provider is None:
            ensure_configured()
        defaults = Identity(conversation_id=conversation_id, user_id=user_id,
                            user_cohort=user_cohort, pipeline_version=pipeline_version)
        span_handler = ObsSpanHandler(tracer_provider=tracer_provider,
                                      meter_provider=meter_provider, defaults=defaults)
        event_handler = ObsEventHandler(span_handler=span_handler)
        dispatcher = get_dispatcher()
        dispatcher.add_span_handler(span_handler)
        dispatcher.add_event_handler(event_handler)
        _active = Instrumentation(span_handler=span_handler, event_handler=event_handler,
                                  dispatcher=dispatcher)
        return _active
