"""obs for LlamaIndex: query engines, retrievers, embeddings, models, tools and workflow agents
as OpenTelemetry GenAI spans, through LlamaIndex's instrumentation dispatcher.

    import obs_llamaindex
    obs_llamaindex.instrument()

Importing this package has no side effects; ``instrument()`` registers the handlers and
``Instrumentation.uninstrument()`` removes them.
"""

from __future__ import annotations

try:
    import llama_index.core.instrumentation  # noqa: F401 - fail early with the install hint
except ImportError as exc:  # pragma: no cover - exercised in an environment without LlamaIndex
    raise ImportError(
        "obs_llamaindex needs LlamaIndex (llama-index-core); install it with "
        "`pip install obs-llamaindex`, which brings llama-index-core along"
    ) from exc

from obs_llamaindex._event_handler import ObsEventHandler
from obs_llamaindex._identity import Identity, session
from obs_llamaindex._instrument import Instrumentation, instrument
from obs_llamaindex._span_handler import ObsSpanHandler

__all__ = [
    "Identity",
    "Instrumentation",
    "ObsEventHandler",
    "ObsSpanHandler",
    "instrument",
    "session",
]
