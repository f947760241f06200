"""Lanes: up to ``concurrency`` calls in flight at once, each lane on a session as the site's session mode allows.

Creatio's integration guidance: on a **non-blocking** site several threads may use one user's session; on a
**blocking** site the requests of one session are served one after the other, so each thread needs a session of
its own (``docs/creatio-notes/session-modes.md``). :class:`Lanes` is a :class:`~.http.CallExecutor` for the flows
that send in parallel (bulk writes): every call takes a free lane for as long as it is sent, so no more than
``concurrency`` requests are ever in flight, whoever sends them, and a lane's session serves one call at a time.
Which session a lane uses is the caller's choice (``session``): the one shared session, or one per lane.
Nothing here imports Airflow or an HTTP library, so operator modules may read the defaults at parse time.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import TypeVar

from airflow_provider_creatio.client import validation
from airflow_provider_creatio.client.http import Call, CallExecutor

T = TypeVar("T")

# Four requests at once: about four times the throughput of one where the site has the workers, and well under
# the worker pool of an application server (8 and more), so that one task never takes a site's every worker.
DEFAULT_CONCURRENCY = 4
# The most lanes one task may open; the sync client keeps this many connections to the site open for reuse.
MAX_CONCURRENCY = 16


class Lanes:
    """``concurrency`` lanes over sessions: ``session(lane)`` gives lane ``lane``'s session (0 to
    ``concurrency - 1``; the same one each time it is asked). It is called under a lock, so it may create
    sessions lazily: a lane that is never needed never logs in, and the lane used last is reused first."""

    def __init__(self, concurrency: int, session: Callable[[int], CallExecutor]) -> None:
        self.concurrency = validation.check_count(concurrency, "concurrency", maximum=MAX_CONCURRENCY)
        self._session = session
        self._lock = threading.Lock()
        self._free: queue.LifoQueue[int] = queue.LifoQueue()
        for lane in reversed(range(self.concurrency)):  # lane 0 on top: the one session already logged in
            self._free.put(lane)

    def execute(self, call: Call[T]) -> T:
        """Send ``call`` on the first free lane, waiting for one when all are busy."""
        lane = self._free.get()
        try:
            with self._lock:
                session = self._session(lane)
            return session.execute(call)
        finally:
            self._free.put(lane)
