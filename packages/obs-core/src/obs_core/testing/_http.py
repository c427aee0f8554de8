"""HTTP plumbing of the scripted server: one handler per connection, JSON and SSE writers.

Kept free of OpenAI semantics so :mod:`obs_core.testing._server` reads as "which document for
which request" while this module owns sockets, keep-alive and chunked transfer encoding.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

logger = logging.getLogger("obs.testing")


class StreamAborted(Exception):
    """The client went away (or the server is stopping) while a response was being written."""


class Exchange:
    """One request/response on a connection, as the OpenAI-level code sees it."""

    def __init__(self, handler: _Handler) -> None:
        self._handler = handler
        self.method = handler.command
        self.path = handler.path.split("?", 1)[0]
        self.headers = {name.lower(): value for name, value in handler.headers.items()}
        try:
            length = int(handler.headers.get("content-length") or 0)
        except ValueError:
            length = 0
        self.raw_body = handler.rfile.read(length) if length > 0 else b""

    def send_json(
        self, status: int, document: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        payload = json.dumps(document).encode("utf-8")
        handler = self._handler
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        self._write(payload)

    def start_events(self, headers: Mapping[str, str] | None = None) -> None:
        """Begin a ``text/event-stream`` response in chunked encoding, so the client can tell a
        finished stream from a dropped one."""
        handler = self._handler
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream; charset=utf-8")
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Transfer-Encoding", "chunked")
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()

    def send_event(self, data: str) -> None:
        event = f"data: {data}\n\n".encode()
        self._write(b"%x\r\n%s\r\n" % (len(event), event))

    def end_events(self) -> None:
        self._write(b"0\r\n\r\n")

    def drop_connection(self) -> None:
        """Close the connection without finishing the response (a network failure)."""
        self._handler.close_connection = True
        try:
            self._handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _write(self, data: bytes) -> None:
        try:
            self._handler.wfile.write(data)
            self._handler.wfile.flush()
        except OSError as exc:
            self._handler.close_connection = True
            raise StreamAborted from exc


class _Handler(BaseHTTPRequestHandler):
    """Routes every request to the owning server's ``handle`` callable."""

    server: Server
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def do_POST(self) -> None:
        self._dispatch()

    def do_GET(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        try:
            self.server.handle_exchange(Exchange(self))
        except StreamAborted:
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        # Test output must stay clean: request lines go to debug logging, never to stderr.
        logger.debug("scripted server: " + format, *args)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # 50 clients connecting at once must not overflow the listen backlog (SYN retries take 1 s).
    request_queue_size = 256

    def __init__(
        self, address: tuple[str, int], handle_exchange: Callable[[Exchange], None]
    ) -> None:
        super().__init__(address, _Handler)
        self.handle_exchange = handle_exchange
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def open_connections(self) -> Iterable[socket.socket]:
        with self._connections_lock:
            return list(self._connections)

    def close_all_connections(self) -> None:
        """Unblock every handler thread: idle keep-alive reads and pending writes both fail."""
        for connection in self.open_connections():
            _shutdown_quietly(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("scripted server: error on connection from %s", client_address, exc_info=True)


def _shutdown_quietly(connection: socket.socket) -> None:
    try:
        connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the peer


def serve(
    handle_exchange: Callable[[Exchange], None], *, host: str
) -> tuple[Server, threading.Thread]:
    """Bind an ephemeral port and serve on a daemon thread."""
    server = Server((host, 0), handle_exchange)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"scripted-openai-{server.server_address[1]}",
        daemon=True,
    )
    thread.start()
    return server, thread
