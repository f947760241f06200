"""The asynchronous Creatio client, for triggers: httpx moves the bytes, tenacity's AsyncRetrying repeats.

It drives the session flow of :mod:`.session_flow` with ``await`` and an ``asyncio.Lock``, and so makes exactly
the decisions of the sync client in :mod:`.transport` (they live in :mod:`.session_flow`, :mod:`.wire`,
:mod:`.retry` and :mod:`.responses`); only sending differs. Nothing blocks the event loop: sleeps are awaited,
and the one blocking step of httpx (reading the CA bundle when its client is built) runs in a worker thread.

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
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

import tenacity

from airflow_provider_creatio.client import retry, session_flow
from airflow_provider_creatio.client.config import CreatioConfig
from airflow_provider_creatio.client.errors import CreatioError
from airflow_provider_creatio.client.http import ApiResponse, Call
from airflow_provider_creatio.client.retry import FailureKind, TransportFailure

if TYPE_CHECKING:
    import httpx

R = TypeVar("R")
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
        tls = any(isinstance(e, ssl.SSLError) for e in retry.exception_chain(exc))
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
        self._flows = session_flow.SessionFlows(config, on_secret, clock)
        self._http = http_client
        self._owns_http = http_client is None
        if http_client is not None:
            http_client.cookies.jar.set_policy(self._flows.auth.cookie_policy())
        self._sleep = sleep or asyncio.sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._login_lock = asyncio.Lock()
        self._on_the_wire = asyncio.Semaphore(MAX_CONNECTIONS)
        self.request_count = 0

    @property
    def login_count(self) -> int:
        return self._flows.login_count

    @property
    def api_calls(self) -> int:
        """The calls Creatio counted against the user's daily quota (:mod:`.api_calls`), logins excluded."""
        return self._flows.api_calls.value

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
        return await self._run(self._flows.execute(call))

    async def login(self) -> None:
        """Log in now (again, if a session exists). Calls log in by themselves when needed."""
        await self._run(self._flows.login())

    async def logout(self) -> None:
        """End the session on the server, if there is one, and forget it."""
        await self._run(self._flows.logout())

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
    # Driving the session flow

    async def _run(self, flow: session_flow.Flow[R]) -> R:
        """Take the steps of ``flow`` one after the other, awaiting each; what it returns."""
        walk = session_flow.Walk(flow)
        while walk.step is not None:
            try:
                reply = await self._take(walk.step)
            except BaseException as exc:  # noqa: BLE001 - the flow gets it back and raises what it does not handle
                walk.fail(exc)
            else:
                walk.reply(reply)
        return walk.result

    async def _take(self, step: session_flow.Step) -> object:
        """Do what ``step`` asks; its reply."""
        if isinstance(step, session_flow.Send):
            return await self._send(step)
        if isinstance(step, session_flow.Locked):
            async with self._login_lock:
                return await self._run(step.flow)
        if self._http is not None:  # DropCookies
            self._http.cookies.clear()
        return None

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
        client.cookies.jar.set_policy(self._flows.auth.cookie_policy())
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

    async def _send(self, send: session_flow.Send) -> tuple[ApiResponse, int]:
        """Send with retries; the last answer and the number of tries it took."""
        attempts = 0

        async def attempt() -> ApiResponse:
            nonlocal attempts
            attempts += 1
            return await self._send_once(send)

        retrying = tenacity.AsyncRetrying(
            sleep=self._sleep, **retry.tenacity_options(self.config.retry, send.outgoing, self._rng, log)
        )
        try:
            response: ApiResponse = await retrying(attempt)
        except TransportFailure as failure:
            raise retry.failure_error(failure, send.outgoing, attempts) from None
        return response, attempts

    async def _send_once(self, send: session_flow.Send) -> ApiResponse:
        client = await self._http_client()  # the first call imports httpx in a worker thread
        import httpx

        outgoing = self._flows.on_the_wire(send, client.cookies.jar)
        self.request_count += 1
        try:
            async with self._on_the_wire:
                raw = await client.request(
                    outgoing.method,
                    outgoing.url,
                    content=bytes(outgoing.content)
                    if isinstance(outgoing.content, memoryview)
                    else outgoing.content,
                    headers=dict(outgoing.headers),
                    timeout=self._timeout(),
                    follow_redirects=False,
                )
        except httpx.HTTPError as exc:
            raise TransportFailure(failure_kind(exc), retry.describe_cause(exc)) from None
        log.debug("Creatio %s %s -> %d", outgoing.method, outgoing.path, raw.status_code)
        return self._flows.answered(outgoing, client.cookies.jar, raw)


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
