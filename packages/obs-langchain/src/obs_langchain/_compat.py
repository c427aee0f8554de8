"""The one hard dependency, imported with an actionable message when it is missing."""

from __future__ import annotations

try:
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.tracers.context import register_configure_hook
except ImportError as exc:  # pragma: no cover - exercised only in a broken environment
    raise ImportError(
        "obs-langchain needs langchain-core, which could not be imported "
        f"({exc}). Install the integration with its dependencies: pip install obs-langchain"
    ) from exc

__all__ = ["BaseCallbackHandler", "register_configure_hook"]
