"""The synchronous Creatio client: requests moves the bytes, tenacity repeats what may be repeated.

Every decision (URL and headers, session expiry, retry safety and waits, error classification, parsing) comes from
the shared modules (:mod:`.auth`, :mod:`.retry`, :mod:`.responses`) that the async client in :mod:`.aio` uses too.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TypeVar

import requests
import tenacity
import urllib3.exceptions

from airflow_provider_creatio.client.auth import SecretSink, make_auth
from airflow_provider_creatio.client.config import CreatioConfig
from airflow_provider_creatio.client.errors import CreatioError
from airflow_provider_creatio.client.http import ApiResponse, Call
from airflow_provider_creatio.client.responses import (
    error_for_response,
    finish,
    session_rejected,
    session_rejected_again,
)
from airflow_provider_creatio.client.retry import (
    FailureKind,
    TransportFailure,
    describe_cause,
    exception_chain,
    failure_error,
    tenacity_options,
)
from airflow_provider_creatio.client.wire import Outgoing, cookies_for_path, jar_items, outgoing_for

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
        never_sent = any(isinstance(e, urllib3.exceptions.NewConnectionError) for e in exception_chain(exc))
        return FailureKind.REFUSED if never_sent else FailureKind.DROPPED
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return FailureKind.DROPPED
    return FailureKind.OTHER


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
        self._auth = make_auth(config, SecretSink(on_secret))
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._session.cookies.set_policy(self._auth.cookie_policy())
        self._sleep = sleep or time.sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._clock = clock or time.monotonic
        self._login_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self.login_count = 0
        self.request_count = 0

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
        outgoing = outgoing_for(self.config, call.request)
        generation = self._ensure_session()
        response, attempts = self._send(outgoing, authenticated=True)
        if session_rejected(call, response, self._auth.session_expired):
            self._renew_session(generation)
            response, attempts = self._send(outgoing, authenticated=True)
            if session_rejected(call, response, self._auth.session_expired):
                raise session_rejected_again(response, operation=call.request.operation)
        return finish(call, response, attempts=attempts)

    def login(self) -> None:
        """Log in now (again, if a session exists). Calls log in by themselves when needed."""
        with self._login_lock:
            self._login_locked()

    def logout(self) -> None:
        """End the session on the server, if there is one, and forget it."""
        with self._login_lock:
            try:
                request = self._auth.logout_request()
                if request is not None and self._auth.is_current(self._clock()):
                    response, _ = self._send(request, authenticated=True)
                    # An expired session is as logged out as it gets.
                    if response.status >= 400 and not self._auth.session_expired(response):
                        raise error_for_response(response, operation=request.operation)
            finally:
                self._auth.forget()
                self._session.cookies.clear()

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
    # Session

    def _ensure_session(self) -> int:
        """Log in unless a usable session exists; the generation of the session calls will use."""
        with self._login_lock:
            if not self._auth.is_current(self._clock()):
                self._login_locked()
            return self._auth.generation

    def _renew_session(self, rejected_generation: int) -> None:
        """Log in again, unless another caller already replaced the rejected session."""
        with self._login_lock:
            if self._auth.generation == rejected_generation:
                self._auth.forget()
                self._login_locked()

    def _login_locked(self) -> None:
        request = self._auth.login_request()
        self.login_count += 1
        started = self._clock()
        response, _ = self._send(request, authenticated=False)
        self._auth.accept_login(response, started)

    # ------------------------------------------------------------------------------------------------------------
    # Bytes

    def _send(self, outgoing: Outgoing, *, authenticated: bool) -> tuple[ApiResponse, int]:
        """Send with retries; the last answer and the number of tries it took."""
        attempts = 0

        def attempt() -> ApiResponse:
            nonlocal attempts
            attempts += 1
            return self._send_once(outgoing, authenticated=authenticated)

        retrying = tenacity.Retrying(
            sleep=self._sleep, **tenacity_options(self.config.retry, outgoing, self._rng, log)
        )
        try:
            response: ApiResponse = retrying(attempt)
        except TransportFailure as failure:
            raise failure_error(failure, outgoing, attempts) from None
        return response, attempts

    def _send_once(self, outgoing: Outgoing, *, authenticated: bool) -> ApiResponse:
        if authenticated:
            jar = self._session.cookies
            outgoing = outgoing.with_headers(self._auth.headers(cookies_for_path(jar, outgoing.path)))
        with self._count_lock:
            self.request_count += 1
        try:
            raw = self._session.request(
                outgoing.method,
                outgoing.url,
                data=outgoing.content,
                headers=dict(outgoing.headers),
                timeout=self.config.timeout,
                verify=self.config.verify,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise TransportFailure(failure_kind(exc), describe_cause(exc)) from None
        log.debug("Creatio %s %s -> %d", outgoing.method, outgoing.path, raw.status_code)
        self._auth.note_cookies(jar_items(self._session.cookies))
        return ApiResponse(
            status=raw.status_code,
            headers={name.lower(): value for name, value in raw.headers.items()},
            content=raw.content,
            method=outgoing.method,
            path=outgoing.path,
        )
