"""The viewer's HTTP server: standard-library only, read-only, local by default.

Routes: ``/`` (the page), ``/static/<file>`` (its scripts and style), ``/api/traces``,
``/api/traces/<trace_id>`` and ``/api/overview``. Nothing here writes to any store.

Two guards matter because traces carry prompts and answers: when bound beyond loopback every
API request must carry the access token (``?token=`` or the ``X-Obs-Token`` header), and when
bound to loopback the ``Host`` header must name loopback so a web page on another origin cannot
read the API through DNS rebinding. The page and its static files hold no data and are served
without the token: the browser loads them by plain URL, and the script adds the token (which it
reads from the page's address) to every API call.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import threading
import time
from collections.abc import Iterable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from obs_core.metrics import DEFAULT_HALLUCINATION_EVALUATORS
from obs_core.payloads import PayloadStore
from obs_core.store import SQLiteEvaluationStore, SQLiteTraceStore
from obs_core.store._sqlite import upgrade_if_needed
from obs_core.ui import _api, _overview, _trace
from obs_core.ui._params import ApiError

logger = logging.getLogger("obs.ui")

_JS: Final = "text/javascript; charset=utf-8"
_STATIC_FILES: Final = {
    "index.html": "text/html; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "app.js": _JS,
    "dom.js": _JS,
    "list.js": _JS,
    "trace.js": _JS,
    "charts.js": _JS,
    "overview.js": _JS,
}
_SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_LOOPBACK_NAMES: Final = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _static_bytes(name: str) -> bytes:
    return resources.files("obs_core.ui").joinpath("static").joinpath(name).read_bytes()


def json_bytes(value: Any) -> bytes:
    """JSON with ``<``, ``>`` and ``&`` escaped, so a body is inert even if sniffed as HTML."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.encode("utf-8")


class UiServer:
    """A running viewer over one trace store file (and, optionally, a payload store).

    Built by :func:`serve`; call :meth:`serve_forever` (the CLI) or :meth:`start` (tests and
    embedding), then :meth:`close`, which also closes the stores.
    """

    def __init__(self, *, store: SQLiteTraceStore, evaluations: SQLiteEvaluationStore,
                 payloads: PayloadStore | None, host: str, port: int, token: str | None,
                 hallucination_evaluators: frozenset[str]) -> None:
        self.store = store
        self.evaluations = evaluations
        self.payloads = payloads
        self.hallucination_evaluators = hallucination_evaluators
        self.token = token
        self._thread: threading.Thread | None = None
        self._httpd = ThreadingHTTPServer((host, port), _handler_class(self))
        self._httpd.daemon_threads = True
        self.host = host
        self.port = int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The address to open, with the token when one is required."""
        shown = f"[{self.host}]" if ":" in self.host else self.host
        base = f"http://{shown}:{self.port}/"
        return base if self.token is None else f"{base}?token={quote(self.token)}"

    def start(self) -> None:
        """Serve on a background thread."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="obs-ui",
                                        daemon=True)
        self._thread.start()

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def close(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
        self._httpd.server_close()
        self.store.close()
        self.evaluations.close()
        if self.payloads is not None:
            self.payloads.close()

    def __enter__(self) -> UiServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def serve(db_path: Path, *, host: str = "127.0.0.1", port: int = 0,
          token: str | None = None, payload_store: PayloadStore | None = None,
          hallucination_evaluators: Iterable[str] = DEFAULT_HALLUCINATION_EVALUATORS,
          ) -> UiServer:
    """Bind the viewer (not yet serving). A non-loopback ``host`` without a token is refused.

    The trace database (spans and evaluations) is opened read-only; a file from an older
    version is migrated first when it is writable. ``payload_store``, when
    given, supplies each span's scrubbed payloads and is closed with the server.
    ``hallucination_evaluators`` names the evaluators whose failed result flags a trace as a
    likely hallucination (the same default as the evaluation metrics).
    """
    if token is None and not is_loopback(host):
        raise ValueError(f"binding {host} beyond loopback requires an access token")
    upgrade_if_needed(db_path)
    store = SQLiteTraceStore(db_path, read_only=True)
    try:
        evaluations = SQLiteEvaluationStore(db_path, read_only=True)
    except BaseException:
        store.close()
        raise
    try:
        return UiServer(store=store, evaluations=evaluations, payloads=payload_store, host=host,
                        port=port, token=token,
                        hallucination_evaluators=frozenset(hallucination_evaluators))
    except BaseException:
        store.close()
        evaluations.close()
        raise


def _handler_class(server: UiServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        ui = server

    return Handler


class _Handler(BaseHTTPRequestHandler):
    ui: UiServer
    server_version = "obs-ui"
    sys_version = ""

    def do_GET(self) -> None:
        try:
            self._route()
        except ApiError as exc:
            self._send_json({"error": str(exc)}, status=exc.status)
        except Exception:  # a bug must not kill the server thread; the page shows the 500
            logger.exception("obs ui: request %s failed", self.path)
            self._send_json({"error": "internal error"}, status=500)

    def do_HEAD(self) -> None:
        self._send_json({"error": "use GET"}, status=HTTPStatus.METHOD_NOT_ALLOWED)

    def _route(self) -> None:
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if not self._host_allowed():
            raise ApiError("unexpected Host header", status=403)
        path = parts.path
        if path in ("/", "/index.html"):
            self._send_static("index.html")
        elif path.startswith("/static/") and path[len("/static/"):] in _STATIC_FILES:
            self._send_static(path[len("/static/"):])
        elif not path.startswith("/api/"):
            raise ApiError("not found", status=404)
        elif not self._token_ok(query):
            raise ApiError("missing or wrong access token", status=401)
        else:
            self._send_json(self._api(path, query))

    def _api(self, path: str, query: dict[str, str]) -> Any:
        ui = self.ui
        checks = ui.hallucination_evaluators
        if path == "/api/traces":
            return _api.list_traces(ui.store, query, db_path=ui.store.path,
                                    hallucination_evaluators=checks)
        if path == "/api/overview":
            since_ns, until_ns = _overview.overview_window(query, now_ns=time.time_ns())
            return _overview.overview(ui.store.path, since_ns=since_ns, until_ns=until_ns,
                                      hallucination_evaluators=checks)
        if path.startswith("/api/traces/"):
            trace_id = unquote(path[len("/api/traces/"):])
            return _trace.trace_detail(ui.store, trace_id, evaluations=ui.evaluations,
                                       payloads=ui.payloads, hallucination_evaluators=checks)
        raise ApiError("not found", status=404)

    def _host_allowed(self) -> bool:
        if not is_loopback(self.ui.host):
            return True  # the token protects non-loopback binds
        host = (self.headers.get("Host") or "").lower()
        name = host[: host.find("]") + 1] if host.startswith("[") else host.split(":", 1)[0]
        return name in _LOOPBACK_NAMES

    def _token_ok(self, query: dict[str, str]) -> bool:
        expected = self.ui.token
        if expected is None:
            return True
        given = self.headers.get("X-Obs-Token") or query.get("token") or ""
        return hmac.compare_digest(given.encode(), expected.encode())

    def _send_static(self, name: str) -> None:
        self._send(HTTPStatus.OK, _static_bytes(name), _STATIC_FILES[name])

    def _send_json(self, value: Any, *, status: int = 200) -> None:
        self._send(status, json_bytes(value), "application/json; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in _SECURITY_HEADERS.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("obs ui: " + format, *args)
