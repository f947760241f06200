"""Fixtures shared by the reliability tests: a fresh emulator per test, a tampering proxy and a trap server.

``TamperingProxy`` sits between the client and the emulator and forwards every request, except those a test
chose: it can answer them with a redirect to another host, or change the emulator's answer on the way back
(cut the body short, declare another content type, replace the body, or drop the connection mid-body). It
covers the misbehaviour the emulator cannot script by itself yet (its scripted faults are status codes only).

``TrapServer`` is "another host": it records every request that reaches it, so a test can prove that nothing
(no password, cookie or token) was ever sent there.
"""

from __future__ import annotations

import http.client
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from airflow_provider_creatio.testing.connection import connection_env_name, connection_json
from airflow_provider_creatio.testing.emulator import EmulatorServer, EmulatorSettings

CONN_ID = "creatio_default"
# Retries stay on (the policy is part of what is tested) but wait only milliseconds.
FAST_RETRY = {"backoff_initial": 0.001, "backoff_max": 0.005}
POLL_INTERVAL = 0.02  # how soon a stopped server notices: keeps teardown short
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}


@dataclass
class Answer:
    """An HTTP answer as the proxy writes it back."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    declared_length: int | None = None  # a Content-Length larger than the body: the connection drops mid-body

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)

    def with_header(self, name: str, value: str) -> Answer:
        kept = [(key, val) for key, val in self.headers if key.lower() != name.lower()]
        return Answer(self.status, [*kept, (name, value)], self.body, self.declared_length)


@dataclass
class _Rule:
    method: str | None
    pattern: re.Pattern[str]
    times: int | None  # None: every matching request
    redirect: tuple[int, str] | None = None
    content_type: str | None = None
    body: bytes | None = None
    keep_bytes: int | None = None
    drop_mid_body: bool = False
    hits: int = field(default=0)

    def take(self, method: str, path: str) -> bool:
        if self.method not in (None, method) or not self.pattern.search(path):
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        self.hits += 1
        return True

    def tamper(self, answer: Answer) -> Answer:
        if self.content_type is not None:
            answer = answer.with_header("Content-Type", self.content_type)
        body = answer.body if self.body is None else self.body
        if self.keep_bytes is not None:
            cut = body[: self.keep_bytes]
            declared = len(body) if self.drop_mid_body else None
            return Answer(answer.status, answer.headers, cut, declared)
        return Answer(answer.status, answer.headers, body)


class TamperingProxy:
    """A forwarding HTTP proxy in front of ``upstream_url`` whose answers a test can spoil, request by request."""

    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._rules: list[_Rule] = []
        self._lock = threading.Lock()
        self.forwarded = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> TamperingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    # -- what to spoil -------------------------------------------------------------------------------------------

    def redirect(
        self,
        path_regex: str,
        location: str,
        status: int = 302,
        method: str | None = None,
        times: int | None = None,
    ) -> None:
        """Answer matching requests with ``status`` and ``Location: location`` without forwarding them."""
        self._add(_Rule(method, re.compile(path_regex), times, redirect=(status, location)))

    def spoil(
        self,
        path_regex: str,
        *,
        method: str | None = None,
        times: int | None = None,
        content_type: str | None = None,
        body: bytes | None = None,
        keep_bytes: int | None = None,
        drop_mid_body: bool = False,
    ) -> None:
        """Forward matching requests, then change the answer: its content type, its body, or cut the body to
        ``keep_bytes`` (a complete, shorter message; with ``drop_mid_body`` the original Content-Length is kept
        and the connection closes early)."""
        rule = _Rule(
            method, re.compile(path_regex), times, None, content_type, body, keep_bytes, drop_mid_body
        )
        self._add(rule)

    def _add(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def _rule_for(self, method: str, path: str) -> _Rule | None:
        with self._lock:
            return next((rule for rule in self._rules if rule.take(method, path)), None)

    # -- forwarding ----------------------------------------------------------------------------------------------

    def answer(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        rule = self._rule_for(method, urlsplit(target).path)
        if rule is not None and rule.redirect is not None:
            status, location = rule.redirect
            return Answer(status, [("Location", location), ("Content-Type", "text/html")], b"")
        answer = self._forward(method, target, headers, body)
        return rule.tamper(answer) if rule is not None else answer

    def _forward(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Answer:
        with self._lock:
            self.forwarded += 1
        connection = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            sent = {key: value for key, value in headers if key.lower() not in _HOP_BY_HOP}
            connection.request(method, target, body=body or None, headers=sent)
            response = connection.getresponse()
            return Answer(response.status, list(response.getheaders()), response.read())
        finally:
            connection.close()


def _handler(proxy: TamperingProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            answer = proxy.answer(self.command, self.path, list(self.headers.items()), body)
            self.send_response(answer.status)
            for name, value in answer.headers:
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, value)
            declared = answer.declared_length if answer.declared_length is not None else len(answer.body)
            self.send_header("Content-Length", str(declared))
            if answer.declared_length is not None:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _relay

    return Handler


@dataclass(frozen=True)
class TrappedRequest:
    method: str
    path: str
    header_names: tuple[str, ...]
    body: bytes


class TrapServer:
    """Another host on another port. Records every request it receives and answers 200 ``{}``."""

    def __init__(self) -> None:
        self.received: list[TrappedRequest] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": POLL_INTERVAL}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> TrapServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        trap = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                entry = TrappedRequest(self.command, self.path, tuple(self.headers.keys()), body)
                with trap._lock:
                    trap.received.append(entry)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _record

        return Handler


@pytest.fixture
def fresh_creatio(
    creatio_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[EmulatorServer]:
    """The session's emulator with default settings, fresh seed data and an empty request log; the
    ``creatio_default`` connection points at it (with millisecond retry waits). Settings a test changes are put
    back afterwards: other test modules share this emulator."""
    creatio_emulator.settings = EmulatorSettings()
    creatio_emulator.reset()
    ConnectionSetter(monkeypatch)(creatio_emulator.url)
    yield creatio_emulator
    creatio_emulator.settings = EmulatorSettings()
    creatio_emulator.reset()


class ConnectionSetter:
    """Sets the ``AIRFLOW_CONN_*`` variable of a Creatio connection for one test (millisecond retry waits
    unless the extras say otherwise)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch

    def __call__(
        self,
        host: str,
        login: str = "Supervisor",
        password: str = "Supervisor",
        conn_id: str = CONN_ID,
        **extra: Any,
    ) -> None:
        value = connection_json(host, login, password, **{**FAST_RETRY, **extra})
        self._monkeypatch.setenv(connection_env_name(conn_id), value)


@pytest.fixture
def set_connection(monkeypatch: pytest.MonkeyPatch) -> ConnectionSetter:
    return ConnectionSetter(monkeypatch)


@pytest.fixture
def tampering_proxy(fresh_creatio: EmulatorServer) -> Iterator[TamperingProxy]:
    proxy = TamperingProxy(fresh_creatio.url).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def identity_proxy(fresh_creatio: EmulatorServer) -> Iterator[TamperingProxy]:
    """A tampering proxy in front of the emulator's identity server."""
    proxy = TamperingProxy(fresh_creatio.identity_url).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def trap() -> Iterator[TrapServer]:
    server = TrapServer().start()
    yield server
    server.stop()
