"""Triggers that wait on Creatio in Airflow's triggerer, on the shared async client."""

from __future__ import annotations

import asyncio
import time


async def sleep_until(timestamp: float | None) -> None:
    """Sleep until the UNIX time ``timestamp`` (not at all when it is None or past, e.g. in a trigger that a new
    triggerer took over).

    A deferring task looks once on its worker before it defers; a trigger that looked again at once would ask
    Creatio twice within a second, and, when the wait ends at that look, resume the task while Airflow 3.3's
    scheduler may not yet have seen the deferring workload end (it then fails the re-queued task).
    """
    if timestamp is not None:
        await asyncio.sleep(max(0.0, timestamp - time.time()))
