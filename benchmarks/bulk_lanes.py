"""10. Lanes: a load sending several ``$batch`` requests at once, against the emulator's server model.

``ObjectStorageToCreatioOperator`` loads the same file with ``concurrency`` 1 and 8, on one shared session
(``session_mode="nonblocking"``) and on a session per lane (``"blocking"``, against a site that serves a session's
requests one at a time). The server model is headroom's: 8 workers, 50 ms per request, 5 ms per written record,
so a ``$batch`` of 100 holds a worker 0.55 s and the site serves at most 8 x 100 / 0.55 = 1,455 records/s.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path
from typing import Any

from airflow_provider_creatio import formats
from airflow_provider_creatio.client.batch import MAX_BATCH_SIZE, lookup_ids_per_batch
from airflow_provider_creatio.transfers.object_storage_to_creatio import ObjectStorageToCreatioOperator
from benchmarks.bulk_load import ENTITY, contacts
from benchmarks.harness import CONN_ID, Bench, Emulator, Result, Row, Target, run_task
from benchmarks.headroom import SERVER_MODEL, SERVER_MODEL_OFF, model_ceiling
from benchmarks.round_trips import LOGIN, LOGOUT

LANES = 8
MIN_SHARE_OF_CEILING = 0.75  # of the model's ceiling, at 8 lanes
MIN_SPEEDUP = 6.0  # 8 lanes against 1
# (concurrency, session mode): one lane has one session whatever the mode, so it is measured once.
CASES = ((1, "nonblocking"), (LANES, "nonblocking"), (LANES, "blocking"))


def measure(
    emulator: Emulator, source: str, operation: str, existing: int, concurrency: int, mode: str
) -> dict[str, Any]:
    """Load ``source`` into a fresh emulator (server model on, ``mode`` its session mode) that holds ``existing``
    of its records already: what the load sent, the server's peaks, and how long it took."""
    emulator.reset(**SERVER_MODEL, session_mode=mode)
    if existing:
        emulator.insert(ENTITY, [{**row, "Name": "Old"} for row in contacts(existing * 2, "Old")][::2])
    operator = ObjectStorageToCreatioOperator(
        task_id=f"load_{operation}",
        entity=ENTITY,
        source=source,
        operation=operation,
        concurrency=concurrency,
        session_mode=mode,
        creatio_conn_id=CONN_ID,
    )
    started = time.perf_counter()
    summary = run_task(operator)
    seconds = time.perf_counter() - started
    stats = emulator.stats()
    logins, logouts = stats["per_path"].get(LOGIN, 0), stats["per_path"].get(LOGOUT, 0)
    return {
        "records": summary["count"],
        "succeeded": summary["succeeded"],
        "logins": stats["logins"],
        "data_requests": stats["requests"] - logins - logouts,
        "logouts": logouts,
        "peak_concurrency": stats["server"]["peak_concurrency"],
        "peak_session_concurrency": stats["server"]["peak_session_concurrency"],
        "seconds": seconds,
        "records_per_s": summary["count"] / seconds,
    }


def case_name(operation: str, concurrency: int, mode: str) -> str:
    return f"{operation}, concurrency {concurrency}" + (f", {mode}" if concurrency > 1 else "")


def behaviour(
    name: str, figures: dict[str, Any], bound: int, count: int, concurrency: int, mode: str
) -> list[Target]:
    """What holds on any machine: the requests at the lower bound, the logins, the sessions, every record."""
    most_logins = concurrency if mode == "blocking" else 1
    targets = [
        Target(f"{name}: requests at the lower bound ({bound})", figures["data_requests"] == bound, True),
        Target(
            f"{name}: {figures['logins']} logins, at most {most_logins}",
            1 <= figures["logins"] <= most_logins,
            True,
        ),
        Target(f"{name}: every record written", figures["succeeded"] == count, True),
        Target(
            f"{name}: at most {concurrency} requests at once ({figures['peak_concurrency']})",
            figures["peak_concurrency"] <= concurrency,
            True,
        ),
    ]
    if mode == "blocking":
        targets.append(
            Target(
                f"{name}: never two requests of one session at once",
                figures["peak_session_concurrency"] == 1,
                True,
            )
        )
    return targets


def run(bench: Bench) -> Result:
    emulator, count = bench.emulator, bench.scale.lanes_records
    batches = math.ceil(count / MAX_BATCH_SIZE)
    lookups = math.ceil(count / lookup_ids_per_batch())
    ceiling = model_ceiling()
    rows: list[Row] = []
    figures: dict[str, dict[str, Any]] = {}
    targets: list[Target] = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            source = (Path(folder) / "contacts.jsonl").as_posix()
            with formats.open_writer(source) as writer:
                writer.write_all(contacts(count, "Loaded"))
            for operation, existing in (("create", 0), ("upsert", count // 2)):
                bound = 1 + batches + (lookups if existing else 0)  # the $metadata read, batches, lookups
                one = None
                for concurrency, mode in CASES:
                    name = case_name(operation, concurrency, mode)
                    measured = measure(emulator, source, operation, existing, concurrency, mode)
                    figures[name] = measured
                    one = one or measured["records_per_s"]
                    rate = measured["records_per_s"]
                    rows.append(
                        (
                            name,
                            f"{rate:,.0f} records/s; {measured['logins']} login(s) + "
                            f"{measured['data_requests']} requests; peak {measured['peak_concurrency']} at once",
                            f"ceiling {ceiling:,.0f} records/s",
                            f"{rate / ceiling:.0%} of it, {rate / one:.1f}x one lane",
                        )
                    )
                    targets += behaviour(name, measured, bound, count, concurrency, mode)
                    if concurrency > 1:
                        targets += [
                            Target(
                                f"{name}: at least {MIN_SHARE_OF_CEILING:.0%} of the ceiling: {rate / ceiling:.0%}",
                                rate >= MIN_SHARE_OF_CEILING * ceiling,
                            ),
                            Target(
                                f"{name}: at least {MIN_SPEEDUP:g}x one lane: {rate / one:.1f}x",
                                rate >= MIN_SPEEDUP * one,
                            ),
                        ]
    finally:
        emulator.reset(**SERVER_MODEL_OFF, session_mode="nonblocking")
    return Result(
        key="bulk_lanes",
        title="10. Lanes: several batches at once",
        measures=f"ObjectStorageToCreatioOperator loading a file of {count:,} contacts (create; upsert with half "
        f"existing) with concurrency 1 and {LANES}, on one shared session and on a session per lane, against the "
        "emulator's server model (8 workers, 50 ms per request, 5 ms per written record; blocking runs against a "
        "site in blocking session mode); requests counted by the emulator, the logouts apart",
        rows=rows,
        figures={**figures, "ceiling_records_per_s": ceiling},
        targets=targets,
        columns=("load", "the client reached", "the model allows", "ratio"),
        notes=[
            f"The lower bound of requests: the logins (1, or one per lane used in blocking mode), 1 `$metadata` "
            f"read, ceil({count:,}/100) = {batches} batches, and for the upsert {lookups} lookup batches.",
        ],
    )
