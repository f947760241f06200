"""A tiny HTTP proxy that can lose answers: the request reaches the server and is carried out, but the client's
connection is closed before the answer arrives (what a read timeout or a dropped connection looks like).

Used by the entity tests to prove that a retried create leaves exactly one record. It forwards every request to
the upstream server over a fresh connection and writes the answer back, except for the requests chosen with
:meth:`LossyProxy.lose_answer`, whose client connection is reset after the upstream answered.
"""

from __future__ import annotations

import http.client
import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


class LossyProxy:
    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._rules: list[tuple[str, re.Pattern[str], list[int]]] = []
        self._lock = threading.Lock()
        self.lost: list[str] = []  # "METHOD path" of every answer lost so far
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def lose_answer(self, method: str, path_regex: str, times: int = 1) -> None:
        """Lose the answer of the next ``times`` requests with this method whose path matches ``path_regex``."""
        with self._lock:
            self._rules.append((method.upper(), re.compile(path_regex), [times]))

    def _should_lose(self, method: str, path: str) -> bool:
        with self._lock:
            for rule_method, pattern, left in self._rules:
                if rule_method == method and pattern.search(path) and left[0] > 0:
                    left[0] -= 1
                    self.lost.append(f"{method} {path}")
                    return True
        return False

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                upstream = http.client.HTTPConnection(*proxy.upstream, timeout=30)
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    content = answer.read()
                    answer_headers = answer.getheaders()
                    status, reason = answer.status, answer.reason
                finally:
                    upstream.close()
                if proxy._should_lose(self.command, self.path.split("?", 1)[0]):
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response_only(status, reason)
                for name, value in answer_headers:
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _forward

        return Handler

    def __enter__(self) -> LossyProxy:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
