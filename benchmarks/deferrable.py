"""5. Deferrable scale: many record-sensor triggers in one event loop, as Airflow's triggerer runs them."""

from __future__ import annotations

import asyncio
import gc
import json
import subprocess
import sys
import threading
import time
import tracemalloc
import uuid
from dataclasses import dataclass
from typing import Any

from airflow_provider_creatio.client import AsyncCreatioClient, CreatioConfig, batch
from airflow_provider_creatio.client.aio import MAX_CONNECTIONS, shared_clients
from airflow_provider_creatio.testing.emulator.seed import CASE_STATUS_IDS
from airflow_provider_creatio.triggers.entity import CreatioEntityTrigger
from benchmarks.harness import CONN_ID, PASSWORD, USER, Bench, Emulator, Result, Row, Scale, Target, median

NEW, RESOLVED = CASE_STATUS_IDS["New"], CASE_STATUS_IDS["Resolved"]
# Every trigger looks twice a second, so 1,000 of them ask for 2,000 polls per second: more than one event loop
# makes on this machine, so the rate measured is the loop's capacity. (A usual poke_interval is 60 s.)
POLL_INTERVAL = 0.5
LOGOUT = "/ServiceModel/AuthService.svc/Logout"


def trigger(case_id: str) -> CreatioEntityTrigger:
    return CreatioEntityTrigger(
        creatio_conn_id=CONN_ID,
        watch={"entity": "Case", "record_id": case_id, "top": 1},
        success_values={"Status/Id": RESOLVED},
        poll_interval=POLL_INTERVAL,
    )


async def first_event(item: CreatioEntityTrigger) -> dict[str, Any]:
    [event] = [event.payload async for event in item.run()]
    payload: dict[str, Any] = event
    return payload


class Counters:
    """The emulator's counters, read from inside the event loop without a thread (an httpx client of its own)."""

    def __init__(self, emulator: Emulator) -> None:
        import httpx

        # Generous timeouts: with every trigger busy, the loop may answer late, and a late answer is no error.
        self.http = httpx.AsyncClient(base_url=f"{emulator.url}/__emulator__", timeout=120)

    async def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = (await self.http.get("/stats")).json()
        return stats

    async def case_reads(self) -> int:
        return sum(count for path, count in (await self.stats())["per_path"].items() if "/Case(" in path)

    async def wait_for_reads(self, count: int, limit: float = 300) -> None:
        deadline = time.monotonic() + limit
        while await self.case_reads() < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the triggers made fewer than {count} polls in {limit:.0f} s")
            await asyncio.sleep(0.2)


@dataclass(frozen=True)
class Moment:
    python_mb: float  # what Python has allocated (tracemalloc), the process's other memory left out
    threads: int
    logins: int
    logouts: int


async def moment(counters: Counters) -> Moment:
    gc.collect()
    stats = await counters.stats()
    return Moment(
        python_mb=tracemalloc.get_traced_memory()[0] / 2**20,
        threads=threading.active_count(),
        logins=stats["logins"],
        logouts=stats["per_path"].get(LOGOUT, 0),
    )


async def resolve_all(emulator: Emulator, case_ids: list[str]) -> None:
    """Another writer resolves every case, 100 per $batch, on a client (and a session) of its own."""
    config = CreatioConfig(base_url=emulator.url, username=USER, password=PASSWORD)
    updates = [batch.BatchOperation.update("Case", case_id, {"StatusId": RESOLVED}) for case_id in case_ids]
    async with AsyncCreatioClient(config) as writer:
        for start in range(0, len(updates), batch.MAX_BATCH_SIZE):
            await writer.execute(batch.batch_call(updates[start : start + batch.MAX_BATCH_SIZE]))


async def polling_rate(counters: Counters, window: float) -> tuple[float, float]:
    """Polls per second the emulator answered during ``window``, and this process's CPU seconds per poll."""
    reads, started, cpu = await counters.case_reads(), time.perf_counter(), time.process_time()
    await asyncio.sleep(window)
    polls = await counters.case_reads() - reads
    return polls / (time.perf_counter() - started), (time.process_time() - cpu) / max(polls, 1)


async def measure(emulator: Emulator, warm_up: str, case_ids: list[str], scale: Scale) -> dict[str, Any]:
    counters = Counters(emulator)
    await first_event(trigger(warm_up))  # imports httpx, builds one client, logs in and out once
    # Memory is traced only while the triggers start: tracing slows the loop, and would lower the poll rate.
    tracemalloc.start()
    before = await moment(counters)
    tasks = [asyncio.create_task(first_event(trigger(case_id))) for case_id in case_ids]
    await counters.wait_for_reads(len(case_ids) + 1)  # every trigger has looked once (and the warm-up)
    during = await moment(counters)
    tracemalloc.stop()
    sharing = shared_clients.users(CreatioConfig(base_url=emulator.url, username=USER, password=PASSWORD))
    window = scale.trigger_window / scale.runs
    rates = [await polling_rate(counters, window) for _ in range(scale.runs)]
    changed = time.perf_counter()
    await resolve_all(emulator, case_ids)
    events = await asyncio.gather(*tasks)
    delivered = time.perf_counter() - changed
    after = await moment(counters)
    await counters.http.aclose()
    return {
        "triggers": len(case_ids),
        "poll_interval_s": POLL_INTERVAL,
        "memory_added_mb": during.python_mb - before.python_mb,
        "kb_per_trigger": (during.python_mb - before.python_mb) * 1024 / len(case_ids),
        "threads_before": before.threads,
        "threads_added": during.threads - before.threads,
        "logins_for_all_triggers": during.logins - before.logins,
        "users_of_the_shared_client": sharing,
        "polls_per_s": median([polls for polls, _ in rates]),
        "polls_asked_per_s": len(case_ids) / POLL_INTERVAL,
        "client_cpu_ms_per_poll": median([cpu for _, cpu in rates]) * 1000,
        "events_success": sum(event["status"] == "success" for event in events),
        "seconds_from_change_to_last_event": delivered,
        "logouts_after_the_last_trigger": after.logouts - before.logouts - 1,  # the writer logged out too
    }


POKE_PROBE = """
import json, sys, threading, psutil
import airflow.sdk
from airflow_provider_creatio.sensors.entity import CreatioEntitySensor
case_id, resolved, conn_id = sys.argv[1:]
sensor = CreatioEntitySensor(task_id="wait", entity="Case", record_id=case_id,
    success_values={"Status/Id": resolved}, creatio_conn_id=conn_id, mode="poke")
sensor.poke({})
print(json.dumps({"rss_mb": psutil.Process().memory_info().rss / 2**20, "threads": threading.active_count()}))
"""


def poke_process(case_id: str) -> dict[str, float]:
    """What one poke-mode sensor holds while it waits: a task process (and a worker slot) of its own, measured
    in a fresh interpreter after one poke of the same kind of record."""
    command = [sys.executable, "-c", POKE_PROBE, case_id, RESOLVED, CONN_ID]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def rows(figures: dict[str, Any], poke: dict[str, float]) -> list[Row]:
    count = figures["triggers"]
    per_trigger_kb, poke_mb = max(figures["kb_per_trigger"], 0.1), poke["rss_mb"]
    return [
        (
            "memory per wait",
            f"{figures['kb_per_trigger']:,.1f} KB per trigger",
            f"{poke_mb:,.0f} MB per poke-mode task process",
            f"{poke_mb * 1024 / per_trigger_kb:,.0f}x less",
        ),
        (
            f"memory for {count:,} waits",
            f"{figures['memory_added_mb']:,.1f} MB in one process",
            f"{poke_mb * count / 1024:,.1f} GB in {count:,} processes",
            f"{poke_mb * count / max(figures['memory_added_mb'], 0.1):,.0f}x less",
        ),
        (
            "threads",
            f"{figures['threads_added']} added (the process has {figures['threads_before']})",
            f"{count:,} worker slots, {count * int(poke['threads']):,} threads",
            "-",
        ),
        (
            "logins",
            str(figures["logins_for_all_triggers"]),
            f"{count:,} (a session per task)",
            f"{count:,}x fewer",
        ),
        (
            "polls per second",
            f"{figures['polls_per_s']:,.0f} ({figures['client_cpu_ms_per_poll']:.2f} ms CPU each)",
            f"{figures['polls_asked_per_s']:,.0f} asked",
            f"{figures['polls_per_s'] / figures['polls_asked_per_s']:.0%}",
        ),
        (
            "from the change to the last event",
            f"{figures['seconds_from_change_to_last_event']:.1f} s",
            "-",
            "-",
        ),
    ]


def run(bench: Bench) -> Result:
    emulator, scale = bench.emulator, bench.scale
    emulator.reset()
    case_ids = [str(uuid.uuid4()) for _ in range(scale.triggers)]
    warm_up = str(uuid.uuid4())
    emulator.insert("Case", [{"Id": i, "Subject": "Waiting", "StatusId": NEW} for i in case_ids])
    emulator.insert("Case", [{"Id": warm_up, "Subject": "Already resolved", "StatusId": RESOLVED}])
    figures = asyncio.run(measure(emulator, warm_up, case_ids, scale))
    poke = poke_process(case_ids[0])
    figures.update(poke_process_rss_mb=poke["rss_mb"], poke_process_threads=poke["threads"])
    emulator.reset()
    count = figures["triggers"]
    return Result(
        key="deferrable",
        title="5. Deferrable scale",
        measures=f"{count:,} CreatioEntityTrigger in one event loop, each polling one Case every "
        f"{POLL_INTERVAL:g} s (the emulator in its own process), polls counted in {scale.runs} windows of "
        f"{scale.trigger_window / scale.runs:g} s (median); then another "
        "writer resolves every case and each trigger must fire. Compared with poke-mode sensors, each a task "
        "process of its own",
        rows=rows(figures, poke),
        figures=figures,
        columns=("figure", f"{count:,} triggers", f"{count:,} poke-mode sensors", "ratio"),
        targets=[
            Target(
                f"no thread held per trigger: {figures['threads_added']} added",
                figures["threads_added"] <= 0,
                behaviour=True,
            ),
            Target(
                f"{count:,} triggers log in once: {figures['logins_for_all_triggers']}",
                figures["logins_for_all_triggers"] == 1,
                behaviour=True,
            ),
            Target(
                f"one logout, after the last trigger: {figures['logouts_after_the_last_trigger']}",
                figures["logouts_after_the_last_trigger"] == 1,
                behaviour=True,
            ),
            Target(
                f"every trigger fired: {figures['events_success']:,} of {count:,}",
                figures["events_success"] == count,
                behaviour=True,
            ),
        ],
        notes=[
            "A trigger's memory is what Python allocated (tracemalloc) from before the triggers started until "
            "each had polled once: the trigger, its task, its share of the client and of the connection pool. "
            "The poke-mode figure is the RSS of a fresh interpreter that imported Airflow and the sensor and "
            "poked once; a worker forks its task processes, so part of that is shared, but each waiting "
            "poke-mode sensor holds a worker slot, a process and a Creatio session for its whole wait.",
            "Polls per second: the triggers ask for more than one loop can make, so the figure is the loop's "
            "capacity, spent almost all in httpx and httpcore. Before this issue each trigger logged in on a "
            "client of its own (1,000 logins, 1,000 pools). With one shared client but httpx's default pool "
            f"(before the cap of {MAX_CONNECTIONS} requests on the wire), this benchmark measured about 180 "
            "polls/s at 5.5 ms of CPU each. A profile (cProfile of the loop for 5 s) put most of that in "
            "httpcore's `ConnectionPool._assign_requests_to_connections`, which rescans every waiting request "
            "against every connection whenever one changes, and in new connections: the pool closed each one "
            "beyond the 20 it keeps alive as soon as it fell idle. Requests now wait on a semaphore instead, and "
            "the pool keeps alive every connection it may use.",
        ],
    )
