"""The synchronous Creatio client: it drives the session flow of :mod:`.session_flow` with a plain loop and a
``threading.Lock``; requests moves the bytes, tenacity repeats what may be repeated.

Every decision (login, expiry, re-login and replay, URL and headers, retry safety and waits, error
classification, parsing) comes from the modules the async client in :mod:`.aio` uses too: :mod:`.session_flow`,
:mod:`.wire`, :mod:`.retry` and :mod:`.responses`.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TypeVar

import requests
import tenacity
import urllib3.exceptions

from airflow_provider_creatio.client import retry, session_flow
from airflow_provider_creatio.client.config import CreatioConfig
from airflow_provider_creatio.client.errors import CreatioError
from airflow_provider_creatio.client.http import ApiResponse, BodySink, Call
from airflow_provider_creatio.client.lanes import MAX_CONCURRENCY
from airflow_provider_creatio.client.retry import FailureKind, TransportFailure

R = TypeVar("R")
T = TypeVar("T")
log = logging.getLogger(__name__)


def failure_kind(exc: requests.RequestException) -> FailureKind:
    """What a requests exception says about whether the server got the request."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return FailureKind.CONNECT_TIMEOUT
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return FailureKind.READ_TIMEOUT
    if isinstance(exc, requests.exceptions.SSLError):
        return FailureKind.TLS
    if isinstance(exc, requests.exceptions.ConnectionError):
        # requests raises ConnectionError both when no connection was made and when an open one dropped: only
        # urllib3's NewConnectionError (refused, unreachable, DNS) proves the request never left.
        never_sent = any(
            isinstance(e, urllib3.exceptions.NewConnectionError) for e in retry.exception_chain(exc)
        )
        return FailureKind.REFUSED if never_sent else FailureKind.DROPPED
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return FailureKind.DROPPED
    return FailureKind.OTHER


def _pooled_session() -> requests.Session:
    """A session that keeps a connection per lane open (requests keeps 10), so parallel writes on one session
    reuse their connections rather than open and drop one per request."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_maxsize=MAX_CONCURRENCY)
    for scheme in ("https://", "http://"):
        session.mount(scheme, adapter)
    return session


class CreatioClient:
    """A synchronous Creatio session: one lazy login shared by every call (and thread), one re-login and replay
    when the session expires, retries by the request's idempotency. Use it as a context manager, or call
    :meth:`close`.

    ``on_secret`` receives every secret the client learns (password, client secret, cookie values, BPMCSRF,
    bearer token). ``session`` is used instead of a new ``requests.Session`` (its cookie policy is set by the
    client, and :meth:`close` leaves it open). ``sleep``, ``rng`` and ``clock`` replace ``time.sleep``, the jitter's
    random source and ``time.monotonic`` (for tests).

    ``login_count`` counts logins (tried or done); ``request_count`` counts every HTTP request sent, logins,
    retries and replays included.
    """

    def __init__(
        self,
        config: CreatioConfig,
        *,
        on_secret: Callable[[str], None] | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.config = config
        self._flows = session_flow.SessionFlows(config, on_secret, clock)
        self._owns_session = session is None
        self._session = session if session is not None else _pooled_session()
        self._session.cookies.set_policy(self._flows.auth.cookie_policy())
        self._sleep = sleep or time.sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._login_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self.request_count = 0

    @property
    def login_count(self) -> int:
        return self._flows.login_count

    @property
    def api_calls(self) -> int:
        """The calls Creatio counted against the user's daily quota (:mod:`.api_calls`), logins excluded."""
        return self._flows.api_calls.value

    def __enter__(self) -> CreatioClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------------------------
    # Public API

    def execute(self, call: Call[T]) -> T:
        """Send ``call`` (logging in first if needed) and return what its parser makes of the answer."""
        return self._run(self._flows.execute(call))

    def login(self) -> None:
        """Log in now (again, if a session exists). Calls log in by themselves when needed."""
        self._run(self._flows.login())

    def logout(self) -> None:
        """End the session on the server, if there is one, and forget it."""
        self._run(self._flows.logout())

    def close(self) -> None:
        """Log out if logged in, then release the connections."""
        try:
            self.logout()
        except CreatioError as exc:
            log.warning("Creatio logout failed while closing the client: %s", exc)
        finally:
            if self._owns_session:
                self._session.close()

    # ------------------------------------------------------------------------------------------------------------
    # Driving the session flow

    def _run(self, flow: session_flow.Flow[R]) -> R:
        """Take the steps of ``flow`` one after the other; what it returns."""
        walk = session_flow.Walk(flow)
        while walk.step is not None:
            try:
                reply = self._take(walk.step)
            except BaseException as exc:  # noqa: BLE001 - the flow gets it back and raises what it does not handle
                walk.fail(exc)
            else:
                walk.reply(reply)
        return walk.result

    def _take(self, step: session_flow.Step) -> object:
        """Do what ``step`` asks; its reply."""
        if isinstance(step, session_flow.Send):
            return self._send(step)
        if isinstance(step, session_flow.Locked):
            with self._login_lock:
                return self._run(step.flow)
        self._session.cookies.clear()  # DropCookies
        return None

    # ------------------------------------------------------------------------------------------------------------
    # Bytes

    def _send(self, send: session_flow.Send) -> tuple[ApiResponse, int]:
        """Send with retries; the last answer and the number of tries it took."""
        attempts = 0

        def attempt() -> ApiResponse:
            nonlocal attempts
            attempts += 1
            return self._send_once(send)

        retrying = tenacity.Retrying(
            sleep=self._sleep, **retry.tenacity_options(self.config.retry, send.outgoing, self._rng, log)
        )
        try:
            response: ApiResponse = retrying(attempt)
        except TransportFailure as failure:
            raise retry.failure_error(failure, send.outgoing, attempts) from None
        return response, attempts

    def _send_once(self, send: session_flow.Send) -> ApiResponse:
        outgoing = self._flows.on_the_wire(send, self._session.cookies)
        with self._count_lock:
            self.request_count += 1
        raw: requests.Response | _Drained
        try:
            raw = self._session.request(
                outgoing.method,
                outgoing.url,
                data=outgoing.content,  # type: ignore[arg-type]  # a memoryview (a file's chunk) goes as is
                headers=dict(outgoing.headers),
                timeout=self.config.timeout,
                verify=self.config.verify,
                allow_redirects=False,
                stream=send.sink is not None,
            )
            if send.sink is not None:
                raw = _drained(raw, send.sink)
        except requests.RequestException as exc:
            raise TransportFailure(failure_kind(exc), retry.describe_cause(exc)) from None
        log.debug("Creatio %s %s -> %d", outgoing.method, outgoing.path, raw.status_code)
        return self._flows.answered(outgoing, self._session.cookies, raw)


_SINK_BLOCK = 1 << 20  # bytes read from the socket at a time into a sink


@dataclass(frozen=True)
class _Drained:
    """A streamed answer whose body went to a sink: what the flows read of it."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes = b""


def _drained(raw: requests.Response, sink: BodySink) -> requests.Response | _Drained:
    """A 2xx answer's body written to ``sink`` a block at a time (memory stays one block), any other read whole
    (an error is short, and its words are wanted)."""
    with raw:
        if not 200 <= raw.status_code < 300:
            _ = raw.content
            return raw
        with sink() as out:
            for block in raw.iter_content(_SINK_BLOCK):
                out.write(block)
        return _Drained(raw.status_code, raw.headers)
