"""The asynchronous Creatio client, for triggers: httpx moves the bytes, tenacity's AsyncRetrying repeats.

It makes exactly the decisions of the sync client in :mod:`.transport` (they live in :mod:`.auth`, :mod:`.retry`
and :mod:`.responses`); only sending differs. Nothing blocks the event loop: sleeps are awaited, and the one
blocking step of httpx (reading the CA bundle when its client is built) runs in a worker thread.

httpx is imported when the first request is sent, not with this module: importing it costs about 90 ms, and
operator modules that name a trigger are imported at every DAG parse.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import re
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

import tenacity

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

if TYPE_CHECKING:
    import httpx

T = TypeVar("T")
log = logging.getLogger(__name__)
# At most this many requests of one client are on the wire at once; the others wait their turn on a semaphore.
# httpcore's pool scans every waiting request against every connection on each change (quadratic in a long
# queue), and closes a connection beyond its keep-alive limit as soon as it falls idle; so the pool keeps alive
# exactly as many connections as may be busy, and no request ever waits inside it. This is also the most
# requests that 1,000 triggers sharing one client put on Creatio at a time.
MAX_CONNECTIONS = 20
_SET_COOKIE_RE = re.compile(r"""(\(b(['"])set-cookie\2,\s*)b(['"]).*?\3\)""", re.IGNORECASE)


class _RedactSetCookie(logging.Filter):
    """httpcore's DEBUG trace prints response headers verbatim, session cookies included: blank their values."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "set-cookie" in record.msg.lower():
            record.msg = _SET_COOKIE_RE.sub(r"\1b'<redacted>')", record.msg)
        return True


def _redact_httpcore_traces() -> None:
    for name in ("httpcore.http11", "httpcore.http2"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactSetCookie) for f in logger.filters):
            logger.addFilter(_RedactSetCookie())


_redact_httpcore_traces()


def failure_kind(exc: Exception) -> FailureKind:
    """What an httpx exception says about whether the server got the request."""
    import httpx

    if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
        return FailureKind.CONNECT_TIMEOUT
    if isinstance(exc, (httpx.ReadTimeout, httpx.WriteTimeout)):
        return FailureKind.READ_TIMEOUT
    if isinstance(exc, httpx.ConnectError):
        tls = any(isinstance(e, ssl.SSLError) for e in exception_chain(exc))
        return FailureKind.TLS if tls else FailureKind.REFUSED
    if isinstance(exc, (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)):
        return FailureKind.DROPPED
    return FailureKind.OTHER


def _verify_setting(verify: bool | str) -> bool | ssl.SSLContext:
    """httpx takes a CA bundle (a file, or a directory as requests accepts too) as an SSL context."""
    if isinstance(verify, bool):
        return verify
    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    return ssl.create_default_context(cafile=verify)


class AsyncCreatioClient:
    """The async twin of :class:`~airflow_provider_creatio.client.transport.CreatioClient`: same arguments (an
    ``httpx.AsyncClient`` instead of a requests session, an awaitable ``sleep``), same behaviour, awaited methods.
    Use it as an async context manager, or await :meth:`close`.
    """

    def __init__(
        self,
        config: CreatioConfig,
        *,
        on_secret: Callable[[str], None] | None = None,
        http_client: httpx.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.config = config
        self._auth = make_auth(config, SecretSink(on_secret))
        self._owns_http = http_client is None
        self._http = http_client
        if http_client is not None:
            http_client.cookies.jar.set_policy(self._auth.cookie_policy())
        self._sleep = sleep or asyncio.sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._clock = clock or time.monotonic
        self._login_lock = asyncio.Lock()
        self._on_the_wire = asyncio.Semaphore(MAX_CONNECTIONS)
        self.login_count = 0
        self.request_count = 0

    async def __aenter__(self) -> AsyncCreatioClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # ------------------------------------------------------------------------------------------------------------
    # Public API

    async def execute(self, call: Call[T]) -> T:
        """Send ``call`` (logging in first if needed) and return what its parser makes of the answer."""
        outgoing = outgoing_for(self.config, call.request)
        generation = await self._ensure_session()
        response, attempts = await self._send(outgoing, authenticated=True)
        if session_rejected(call, response, self._auth.session_expired):
            await self._renew_session(generation)
            response, attempts = await self._send(outgoing, authenticated=True)
            if session_rejected(call, response, self._auth.session_expired):
                raise session_rejected_again(response, operation=call.request.operation)
        return finish(call, response, attempts=attempts)

    async def login(self) -> None:
        """Log in now (again, if a session exists). Calls log in by themselves when needed."""
        async with self._login_lock:
            await self._login_locked()

    async def logout(self) -> None:
        """End the session on the server, if there is one, and forget it."""
        async with self._login_lock:
            try:
                request = self._auth.logout_request()
                if request is not None and self._auth.is_current(self._clock()):
                    response, _ = await self._send(request, authenticated=True)
                    # An expired session is as logged out as it gets.
                    if response.status >= 400 and not self._auth.session_expired(response):
                        raise error_for_response(response, operation=request.operation)
            finally:
                self._auth.forget()
                if self._http is not None:
                    self._http.cookies.clear()

    async def close(self) -> None:
        """Log out if logged in, then release the connections."""
        try:
            await self.logout()
        except CreatioError as exc:
            log.warning("Creatio logout failed while closing the client: %s", exc)
        finally:
            if self._owns_http and self._http is not None:
                await self._http.aclose()
                self._http = None

    # ------------------------------------------------------------------------------------------------------------
    # Session

    async def _ensure_session(self) -> int:
        """Log in unless a usable session exists; the generation of the session calls will use."""
        async with self._login_lock:
            if not self._auth.is_current(self._clock()):
                await self._login_locked()
            return self._auth.generation

    async def _renew_session(self, rejected_generation: int) -> None:
        """Log in again, unless another caller already replaced the rejected session."""
        async with self._login_lock:
            if self._auth.generation == rejected_generation:
                self._auth.forget()
                await self._login_locked()

    async def _login_locked(self) -> None:
        request = self._auth.login_request()
        self.login_count += 1
        started = self._clock()
        response, _ = await self._send(request, authenticated=False)
        self._auth.accept_login(response, started)

    # ------------------------------------------------------------------------------------------------------------
    # Bytes

    def _build_http(self) -> httpx.AsyncClient:
        import httpx

        client = httpx.AsyncClient(
            verify=_verify_setting(self.config.verify),
            timeout=self._timeout(),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS),
        )
        client.cookies.jar.set_policy(self._auth.cookie_policy())
        return client

    def _timeout(self) -> httpx.Timeout:
        import httpx

        return httpx.Timeout(self.config.read_timeout, connect=self.config.connect_timeout)

    async def _http_client(self) -> httpx.AsyncClient:
        if self._http is None:
            # Building the client loads the CA bundle from disk: keep that off the event loop.
            client = await asyncio.to_thread(self._build_http)
            if self._http is None:
                self._http = client
            else:
                await client.aclose()
        return self._http

    async def _send(self, outgoing: Outgoing, *, authenticated: bool) -> tuple[ApiResponse, int]:
        """Send with retries; the last answer and the number of tries it took."""
        attempts = 0

        async def attempt() -> ApiResponse:
            nonlocal attempts
            attempts += 1
            return await self._send_once(outgoing, authenticated=authenticated)

        retrying = tenacity.AsyncRetrying(
            sleep=self._sleep, **tenacity_options(self.config.retry, outgoing, self._rng, log)
        )
        try:
            response: ApiResponse = await retrying(attempt)
        except TransportFailure as failure:
            raise failure_error(failure, outgoing, attempts) from None
        return response, attempts

    async def _send_once(self, outgoing: Outgoing, *, authenticated: bool) -> ApiResponse:
        client = await self._http_client()  # the first call imports httpx in a worker thread
        import httpx

        if authenticated:
            jar = client.cookies.jar
            outgoing = outgoing.with_headers(self._auth.headers(cookies_for_path(jar, outgoing.path)))
        self.request_count += 1
        try:
            async with self._on_the_wire:
                raw = await client.request(
                    outgoing.method,
                    outgoing.url,
                    content=outgoing.content,
                    headers=dict(outgoing.headers),
                    timeout=self._timeout(),
                    follow_redirects=False,
                )
        except httpx.HTTPError as exc:
            raise TransportFailure(failure_kind(exc), describe_cause(exc)) from None
        log.debug("Creatio %s %s -> %d", outgoing.method, outgoing.path, raw.status_code)
        self._auth.note_cookies(jar_items(client.cookies.jar))
        return ApiResponse(
            status=raw.status_code,
            headers={name.lower(): value for name, value in raw.headers.items()},
            content=raw.content,
            method=outgoing.method,
            path=outgoing.path,
        )


@dataclass
class _Share:
    client: AsyncCreatioClient
    users: int = 0


class SharedAsyncClients:
    """Async clients shared within one event loop: one client (one login, one connection pool) per configuration,
    closed, and so logged out, when its last user lets go.

    Airflow's triggerer runs every trigger of its process in one event loop. With a client each, 1,000 record
    triggers on one connection would make 1,000 logins and hold 1,000 connection pools; shared, they make one
    login, and at most :data:`MAX_CONNECTIONS` of their requests are on the wire at once.
    """

    def __init__(self) -> None:
        self._shares: dict[tuple[asyncio.AbstractEventLoop, CreatioConfig], _Share] = {}

    @contextlib.asynccontextmanager
    async def use(
        self, config: CreatioConfig, *, on_secret: Callable[[str], None] | None = None
    ) -> AsyncIterator[AsyncCreatioClient]:
        """The shared client of ``config`` in the running loop, for the duration of the ``async with``
        (``on_secret`` is the first user's).

        From the look-up to the count of users nothing hands control back to the loop: no ``await``, and no call
        into Airflow (in the triggerer even ``mask_secret`` is a round trip to the supervisor during which other
        triggers run). Building a client calls out to nothing, so two triggers that arrive together always share
        one client and one login.
        """
        key = (asyncio.get_running_loop(), config)
        share = self._shares.get(key)
        if share is None:
            share = self._shares[key] = _Share(AsyncCreatioClient(config, on_secret=on_secret))
        share.users += 1
        try:
            yield share.client
        finally:
            share.users -= 1
            if share.users == 0:
                # Forgotten before the first await: a client being closed is never handed out; a user that comes
                # while this one logs out gets a new client.
                del self._shares[key]
                # Shielded: a user cancelled while closing still logs out and releases the connections.
                await asyncio.shield(share.client.close())

    def users(self, config: CreatioConfig) -> int:
        """How many users hold the shared client of ``config`` in the running loop (0: none is open)."""
        share = self._shares.get((asyncio.get_running_loop(), config))
        return 0 if share is None else share.users


shared_clients = SharedAsyncClients()
