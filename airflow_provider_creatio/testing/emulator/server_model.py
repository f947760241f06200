"""The application server behind the site: a bounded pool of workers, session locks, and the work a request costs.

Creatio runs on IIS / Kestrel, where a request holds a worker thread for as long as it is served and requests
beyond the pool wait; in a blocking session mode (ASP.NET session state) the requests of one session are served
one at a time. The emulator is one asyncio event loop, so a worker is a slot of :class:`Slots` and its work is
``await asyncio.sleep``: waiting never blocks the loop, and throughput has the ceiling a real server has
(workers / work per record). Off by default: without work settings no pool is used, and in the nonblocking session
mode no session waits for another (docs/guides/emulator.md, "The server model").

The gate calls :meth:`ServerModel.serving` around every request it lets through and :meth:`ServerModel.work`
when the answer starts, once the endpoint has filled in the request's cost.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from airflow_provider_creatio.testing.emulator.log import RequestCost
from airflow_provider_creatio.testing.emulator.settings import EmulatorSettings


def work_seconds(settings: EmulatorSettings, cost: RequestCost) -> float:
    """The work a request costs the server: per request, per row it returns, per record it writes."""
    return (
        settings.server_request_work
        + cost.rows_returned * settings.server_read_work_per_record
        + cost.records_written * settings.server_write_work_per_record
    )


def model_on(settings: EmulatorSettings) -> bool:
    """The worker pool is used only when requests cost work: without work it would change nothing but speed."""
    return bool(
        settings.server_request_work
        or settings.server_read_work_per_record
        or settings.server_write_work_per_record
    )


class Slots:
    """A pool of slots handed out first come, first served; its size is passed on every call, so that a changed
    setting applies to the next request. Only the event loop's thread uses it."""

    def __init__(self) -> None:
        self.busy = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def idle(self) -> bool:
        return not self.busy and not self._waiters

    async def acquire(self, size: int) -> bool:
        """Take a slot, waiting in line for one if all ``size`` are busy; whether it had to wait."""
        if self.busy < size and not self._waiters:
            self.busy += 1
            return False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # the slot was handed over as the wait was cancelled
                self.release(size)
            else:
                self._waiters.remove(waiter)
            raise
        return True

    def release(self, size: int) -> None:
        """Give the slot back; it goes straight to the longest waiter, so a newcomer cannot overtake the line."""
        self.busy -= 1
        while self._waiters and self.busy < size:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self.busy += 1


@asynccontextmanager
async def _held(slots: Slots, size: int) -> AsyncIterator[bool]:
    waited = await slots.acquire(size)
    try:
        yield waited
    finally:
        slots.release(size)


class ServerModel:
    """The worker pool, the per-session locks, and what they saw (``stats``)."""

    def __init__(self) -> None:
        self._workers = Slots()
        self._sessions: dict[str, Slots] = {}  # session key -> its lock (a pool of one), while in use
        self._serving: dict[str, int] = {}  # session key -> its requests being served now
        self._stats_lock = threading.Lock()  # stats are read from other threads (tests, admin)
        self._in_service = 0
        self.clear()

    def clear(self) -> None:
        """Start counting afresh; requests being served now stay counted as such."""
        with self._stats_lock:
            self._work = 0.0
            self._queue = 0.0
            self._max_queue = 0.0
            self._queued = 0
            self._peak = self._in_service
            self._session_peak = max(self._serving.values(), default=0)

    @asynccontextmanager
    async def serving(self, settings: EmulatorSettings, session: str | None) -> AsyncIterator[float]:
        """Hold the session's lock (blocking mode), then a worker (model on), while the request is served; yields
        the (monotonic) time its service started, for :meth:`work`."""
        arrived = time.monotonic()
        workers = settings.server_workers if model_on(settings) else None
        async with AsyncExitStack() as stack:
            waited = False
            if settings.session_mode == "blocking" and session is not None:
                waited = await stack.enter_async_context(self._session_turn(session))
            if workers is not None:
                waited = await stack.enter_async_context(_held(self._workers, workers)) or waited
            started = time.monotonic()
            self._begin(session, started - arrived if waited else 0.0)
            try:
                yield started
            finally:
                self._end(session)

    @asynccontextmanager
    async def _session_turn(self, session: str) -> AsyncIterator[bool]:
        """The session's lock (a pool of one slot), forgotten once nobody holds or awaits it."""
        lock = self._sessions.setdefault(session, Slots())
        try:
            async with _held(lock, 1) as waited:
                yield waited
        finally:
            if lock.idle:
                self._sessions.pop(session, None)

    async def work(self, settings: EmulatorSettings, cost: RequestCost, started: float) -> None:
        """Do the request's work while it holds its worker: counted as configured, and slept (without blocking)
        for what the emulator's own handling since ``started`` did not already take, so that a worker is held for
        the work and the ceiling is the model's, not the model's plus the emulator's."""
        seconds = work_seconds(settings, cost)
        if seconds <= 0:
            return
        with self._stats_lock:
            self._work += seconds
        remaining = seconds - (time.monotonic() - started)
        if remaining > 0:
            await asyncio.sleep(remaining)

    def _begin(self, session: str | None, queued: float) -> None:
        with self._stats_lock:
            self._in_service += 1
            self._peak = max(self._peak, self._in_service)
            if queued:
                self._queued += 1
                self._queue += queued
                self._max_queue = max(self._max_queue, queued)
            if session is not None:
                self._serving[session] = self._serving.get(session, 0) + 1
                self._session_peak = max(self._session_peak, self._serving[session])

    def _end(self, session: str | None) -> None:
        with self._stats_lock:
            self._in_service -= 1
            if session is not None:
                self._serving[session] -= 1
                if not self._serving[session]:
                    del self._serving[session]

    def stats(self) -> dict[str, Any]:
        """What the server did since the last clear (the ``server`` key of the admin stats)."""
        with self._stats_lock:
            return {
                "work_seconds": self._work,
                "queued": self._queued,
                "queue_seconds": self._queue,
                "max_queue_seconds": self._max_queue,
                "peak_concurrency": self._peak,
                "peak_session_concurrency": self._session_peak,
            }
