"""7. Bulk load from object storage: the requests and the speed of ObjectStorageToCreatioOperator on a large file."""

from __future__ import annotations

import math
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from airflow_provider_creatio import formats
from airflow_provider_creatio.client.batch import MAX_BATCH_SIZE, lookup_ids_per_batch
from airflow_provider_creatio.transfers.object_storage_to_creatio import ObjectStorageToCreatioOperator
from benchmarks.harness import CONN_ID, Bench, Emulator, Result, Row, Target, run_task
from benchmarks.round_trips import LOGIN, LOGOUT

ENTITY = "Contact"


def contacts(count: int, name: str) -> Iterator[dict[str, Any]]:
    for n in range(count):
        yield {
            "Id": str(uuid.UUID(int=n + 1)),
            "Name": f"{name} {n}",
            "Email": f"load{n}@example.com",
            "JobTitle": "Tester",
        }


def measure(emulator: Emulator, source: str, operation: str, existing: int) -> dict[str, Any]:
    """Load ``source`` into a freshly reset emulator holding ``existing`` of its records already; the requests
    the load made (admin inserts are not logged) and how long it took."""
    emulator.reset()
    if existing:
        emulator.insert(ENTITY, [{**row, "Name": "Old"} for row in contacts(existing * 2, "Old")][::2])
    operator = ObjectStorageToCreatioOperator(
        task_id=f"load_{operation}",
        entity=ENTITY,
        source=source,
        operation=operation,
        creatio_conn_id=CONN_ID,
    )
    started = time.perf_counter()
    summary = run_task(operator)
    seconds = time.perf_counter() - started
    stats = emulator.stats()
    per_path = stats["per_path"]
    logins, logouts = per_path.get(LOGIN, 0), per_path.get(LOGOUT, 0)
    return {
        "records": summary["count"],
        "succeeded": summary["succeeded"],
        "actions": summary["actions"],
        "logins": stats["logins"],
        "data_requests": stats["requests"] - logins - logouts,
        "logouts": logouts,
        "seconds": seconds,
        "records_per_s": summary["count"] / seconds,
    }


def run(bench: Bench) -> Result:
    emulator, count = bench.emulator, bench.scale.load_records
    batches = math.ceil(count / MAX_BATCH_SIZE)
    lookups = math.ceil(count / lookup_ids_per_batch())
    with tempfile.TemporaryDirectory() as folder:
        jsonl, parquet = Path(folder) / "contacts.jsonl", Path(folder) / "contacts.parquet"
        for path in (jsonl, parquet):
            with formats.open_writer(path.as_posix()) as writer:
                writer.write_all(contacts(count, "Loaded"))
        create = measure(emulator, jsonl.as_posix(), "create", 0)
        upsert = measure(emulator, parquet.as_posix(), "upsert", count // 2)
    emulator.reset()
    measured = {
        f"create of {count:,} records from JSON Lines": (
            create,
            1 + batches,
            f"ceil({count:,}/100) = {batches}",
        ),
        f"upsert of {count:,} records from Parquet (half exist)": (
            upsert,
            1 + lookups + batches,
            f"{lookups} lookup batches + ceil({count:,}/100) = {batches} write batches",
        ),
    }
    rows: list[Row] = []
    targets: list[Target] = []
    for name, (figures, bound, bound_text) in measured.items():
        sent = figures["logins"] + figures["data_requests"]
        lowest = 1 + bound
        rows.append(
            (
                name,
                f"{figures['logins']} login + {figures['data_requests']} = {sent} (+ {figures['logouts']} logout)",
                f"1 login + 1 $metadata read + {bound_text} = {lowest}",
                f"{sent / lowest:.2f}x",
            )
        )
        exact = figures["logins"] == 1 and figures["data_requests"] == bound
        every = figures["succeeded"] == count
        targets.append(Target(f"{name}: exactly the lower bound ({lowest})", exact, behaviour=True))
        targets.append(
            Target(f"{name}: every record written ({figures['succeeded']:,})", every, behaviour=True)
        )
    for name, (figures, _, _) in measured.items():
        rows.append((f"{name}: records per second", f"{figures['records_per_s']:,.0f}", "-", "-"))
    return Result(
        key="bulk_load",
        title="7. Bulk load from object storage",
        measures=f"ObjectStorageToCreatioOperator loading a file of {count:,} contacts (file://) into Contact: "
        "requests and logins counted by the emulator's request log, against the lower bound; the load streams "
        f"the file in chunks of {lookup_ids_per_batch():,} records on one session",
        rows=rows,
        figures={name: figures for name, (figures, _, _) in measured.items()},
        targets=targets,
        columns=("load", "requests", "lower bound", "ratio"),
        notes=[
            "The issue's formula is 1 login + ceil(N/100) batches (+ the lookup for an upsert); the operator adds "
            "one `$metadata` read, for the column check made before the first write (`check_columns`, on by "
            "default; `check_columns=False` saves it). An upsert looks up 2,000 Ids per `$batch` (100 GETs of "
            "20 Ids, as many as fit in Creatio's 100 `$filter` nodes), one lookup per chunk, so a chunk is "
            "exactly what one lookup covers: 50 lookup batches for 100,000 records where the 100-Id filters of "
            "earlier versions, which a real site refuses, needed 10.",
            "The logout at the end of the task is counted apart.",
        ],
    )
