"""``obs ui``: a local, read-only web viewer over the embedded SQLite trace store, its
evaluation results and (optionally) the payload store.

Standard library only (``http.server``), with its page, scripts and style shipped in the
package so it works offline. :func:`serve` binds loopback by default; a wider bind needs an
access token.
"""

from __future__ import annotations

from obs_core.ui._params import ApiError
from obs_core.ui._server import UiServer, is_loopback, serve

__all__ = ["ApiError", "UiServer", "is_loopback", "serve"]
