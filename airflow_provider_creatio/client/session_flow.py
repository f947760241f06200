"""The session flow, written once for both clients: log in, send, and when the session is rejected log in again
once and replay.

The flows do no I/O (like httpx's auth flows): each is a generator that yields the steps it needs and receives
their results. :class:`~.transport.CreatioClient` drives them with a plain loop and a ``threading.Lock``,
:class:`~.aio.AsyncCreatioClient` with ``await`` and an ``asyncio.Lock``; so the two clients cannot decide
differently, and only how they move bytes and hold the lock differs. The steps:

* :class:`Send`: send a request, retried as its idempotency allows; the reply is ``(answer, tries)``.
* :class:`Locked`: run a sub-flow holding the client's login lock; the reply is the sub-flow's result.
* :class:`DropCookies`: empty the client's cookie jar; the reply is None.

A client hands a step's exception back to the flow as well as its reply (:meth:`Walk.fail`, as
``contextlib.contextmanager`` does with its generator), so the flow's ``finally`` runs, and may take a step, when
a step fails.
"""

from __future__ import annotations

import http.cookiejar
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

from airflow_provider_creatio.client import api_calls
from airflow_provider_creatio.client.auth import SecretSink, make_auth
from airflow_provider_creatio.client.config import CreatioConfig
from airflow_provider_creatio.client.errors import CreatioError
from airflow_provider_creatio.client.filter_nodes import check_filter_nodes
from airflow_provider_creatio.client.hints import explain
from airflow_provider_creatio.client.http import ApiResponse, BodySink, Call
from airflow_provider_creatio.client.responses import (
    error_for_response,
    finish,
    session_rejected,
    session_rejected_again,
)
from airflow_provider_creatio.client.wire import (
    Outgoing,
    RawAnswer,
    answer_to,
    cookies_for_path,
    jar_items,
    outgoing_for,
)

R = TypeVar("R")
T = TypeVar("T")


@dataclass(frozen=True)
class Send:
    """Send ``outgoing``; the reply is the last answer and the number of tries it took. A login goes without the
    session's headers. With a ``sink``, a successful answer's body goes there (:data:`~.http.BodySink`)."""

    outgoing: Outgoing
    login: bool = False
    sink: BodySink | None = None


@dataclass(frozen=True)
class Locked(Generic[R]):
    """Run ``flow`` holding the client's login lock, so that logins, renewals and logouts never overlap."""

    flow: Flow[R]


@dataclass(frozen=True)
class DropCookies:
    """Empty the client's cookie jar: a logged-out session's cookies must not go with the next login."""


Step: TypeAlias = Send | Locked[Any] | DropCookies
Flow: TypeAlias = Generator[Step, Any, R]


class Walk(Generic[R]):
    """A flow under way, for the client that drives it: :attr:`step` is the step to take (None once the flow has
    ended) and :attr:`result` what the flow returned."""

    result: R

    def __init__(self, flow: Flow[R]) -> None:
        self._flow = flow
        self.step: Step | None = None
        self._advance(flow.send, None)

    def reply(self, value: object) -> None:
        """Hand the flow what its step gave: it goes on to its next step, or ends."""
        self._advance(self._flow.send, value)

    def fail(self, error: BaseException) -> None:
        """Raise ``error`` in the flow, at the step that failed; what the flow does not handle comes out here."""
        self._advance(self._flow.throw, error)

    def _advance(self, move: Callable[[Any], Step], value: Any) -> None:
        try:
            self.step = move(value)
        except StopIteration as end:
            self.step = None
            self.result = end.value


class SessionFlows:
    """The flows of one client's session and the state they share: the auth strategy (which holds the session and
    its generation), the clock, ``login_count``, the logins tried or done (each under the login lock), and
    ``api_calls``, the calls Creatio counts against its daily quota (:mod:`.api_calls`).

    ``on_secret`` receives every secret the session learns; ``clock`` replaces ``time.monotonic`` (for tests).
    Building it calls out to nothing (see :class:`~.aio.SharedAsyncClients`)."""

    def __init__(
        self,
        config: CreatioConfig,
        on_secret: Callable[[str], None] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.config = config
        self.auth = make_auth(config, SecretSink(on_secret))
        self._clock = clock or time.monotonic
        self.login_count = 0
        self.api_calls = api_calls.ApiCallCount()

    def execute(self, call: Call[T]) -> Flow[T]:
        """Send ``call`` on the session, logging in first if no usable session exists, and parse its answer. If
        the session is rejected, log in again (unless a caller that saw the same rejected session already did: the
        generation tells) and send the call once more; a second rejection is an error. A refusal that points at a
        misspelt column or the wrong URL layout gets a hint (:mod:`.hints`)."""
        try:
            return (yield from self._execute(call))
        except CreatioError as error:
            yield from explain(error, call.request, self.config.net_core, self._execute)
            raise

    def _execute(self, call: Call[T]) -> Flow[T]:
        for name, value in call.request.params:
            if name == "$filter":  # refused here, before a login or any request, rather than by Creatio
                check_filter_nodes(
                    value, self.config.odata_max_filter_nodes, f"the $filter of {call.request.operation}"
                )
        outgoing = outgoing_for(self.config, call.request)
        generation = yield from _locked(self._ensure_session())
        response, attempts = yield from _sent(Send(outgoing, sink=call.sink))
        if session_rejected(call, response, self.auth.session_expired):
            yield from _locked(self._renew_session(generation))
            response, attempts = yield from _sent(Send(outgoing, sink=call.sink))
            if session_rejected(call, response, self.auth.session_expired):
                raise session_rejected_again(response, operation=call.request.operation)
        api_calls.charge(self.api_calls, api_calls.cost(call.request, response))
        return finish(call, response, attempts=attempts)

    def login(self) -> Flow[None]:
        """Log in now (again, if a session exists)."""
        yield from _locked(self._log_in())

    def logout(self) -> Flow[None]:
        """End the session on the server, if there is one, and forget it whatever the server says."""
        yield from _locked(self._log_out())

    def on_the_wire(self, send: Send, jar: http.cookiejar.CookieJar) -> Outgoing:
        """What one try of ``send`` puts on the wire. A call carries the session's headers as the jar makes them at
        this try, so a BPMCSRF rotated by any answer (a retried one's too) is picked up; a login carries none."""
        if send.login:
            return send.outgoing
        cookies = cookies_for_path(jar, send.outgoing.path)
        return send.outgoing.with_headers(self.auth.headers(cookies))

    def answered(self, outgoing: Outgoing, jar: http.cookiejar.CookieJar, raw: RawAnswer) -> ApiResponse:
        """One try's answer as the flows read it. The cookies it may have set are secrets: they go to the secret
        sink first."""
        self.auth.note_cookies(jar_items(jar))
        return answer_to(outgoing, raw)

    def _ensure_session(self) -> Flow[int]:
        """Log in unless a usable session exists; the generation of the session calls will use."""
        if not self.auth.is_current(self._clock()):
            yield from self._log_in()
        return self.auth.generation

    def _renew_session(self, rejected_generation: int) -> Flow[None]:
        """Log in again, unless another caller already replaced the rejected session."""
        if self.auth.generation == rejected_generation:
            self.auth.forget()
            yield from self._log_in()

    def _log_in(self) -> Flow[None]:
        request = self.auth.login_request()
        self.login_count += 1
        started = self._clock()
        response, _ = yield from _sent(Send(request, login=True))
        self.auth.accept_login(response, started)

    def _log_out(self) -> Flow[None]:
        try:
            request = self.auth.logout_request()
            if request is not None and self.auth.is_current(self._clock()):
                response, _ = yield from _sent(Send(request))
                # An expired session is as logged out as it gets.
                if response.status >= 400 and not self.auth.session_expired(response):
                    raise error_for_response(response, operation=request.operation)
        finally:
            self.auth.forget()
            yield DropCookies()


def _sent(send: Send) -> Flow[tuple[ApiResponse, int]]:
    """The step ``send``, typed: its reply is ``(answer, tries)``."""
    reply: tuple[ApiResponse, int] = yield send
    return reply


def _locked(flow: Flow[R]) -> Flow[R]:
    """The step that runs ``flow`` under the login lock, typed: its reply is the flow's result."""
    result: R = yield Locked(flow)
    return result
