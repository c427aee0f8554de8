"""obs for LangChain and LangGraph: one callback handler turns every chain, model, tool,
retriever and agent run into OpenTelemetry GenAI spans.

Pass ``ObsCallbackHandler()`` in ``callbacks``, or call ``instrument()`` once to trace every run
without touching application code.
"""

from __future__ import annotations

from obs_langchain._handler import ObsCallbackHandler
from obs_langchain._instrument import instrument, instrumented_handler, uninstrument
from obs_langchain._options import HandlerOptions

__all__ = [
    "HandlerOptions",
    "ObsCallbackHandler",
    "instrument",
    "instrumented_handler",
    "uninstrument",
]
