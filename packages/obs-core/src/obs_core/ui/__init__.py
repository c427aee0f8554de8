"""``obs ui``: a local, read-only web viewer over the embedded SQLite trace store.

Standard library only (``http.server``), with its page, script and style shipped in the
package so it works offline. :func:`serve` binds loopback by default; a wider bind needs an
access token.
"""

from __future__ import annotations

from obs_core.ui._api import ApiError
from obs_core.ui._server import UiServer, is_loopback, serve

__all__ = ["ApiError", "UiServer", "is_loopback", "serve"]
