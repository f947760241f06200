"""11. Parallel extract: CreatioToObjectStorageOperator reading CreatedOn ranges side by side (``parallelism``)
against one ordered stream, on a server that spends time per record read (the emulator's server model), and the
client's peak memory of a parallel extract at a tenth of the records and at all of them."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from airflow_provider_creatio.transfers.creatio_to_object_storage import CreatioToObjectStorageOperator
from benchmarks.harness import CONN_ID, Bench, Emulator, Result, Row, Target, run_task
from benchmarks.streaming import FLAT_GROWTH, peak_mb

PAGE_SIZE = 5_000
READ_WORK = 0.0002  # seconds of server work per record read: 200 µs
WORKERS = 8
PARALLELISM = 4
SPEEDUP_TARGET = 3.0
ROWS_READ_TARGET = 1.05
START = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)


def seed(emulator: Emulator, count: int) -> None:
    """``count`` contacts created over about five years, a few per moment."""
    emulator.reset()
    step = dt.timedelta(days=5 * 365) / count
    emulator.insert(
        "Contact",
        [
            {
                "Id": str(uuid.uuid4()),
                "Name": f"Parallel {n:07d}",
                "CreatedOn": (START + step * (n - n % 3)).isoformat(),
            }
            for n in range(count)
        ],
    )


def extract(parallelism: int, folder: Path) -> CreatioToObjectStorageOperator:
    return CreatioToObjectStorageOperator(
        task_id=f"extract_{parallelism}",
        entity="Contact",
        select=["Name"],
        filter="startswith(Name, 'Parallel')",  # the seeded contacts, not the emulator's own
        path=f"file://{folder}/p{parallelism}/",
        page_size=PAGE_SIZE,
        parallelism=parallelism,
        creatio_conn_id=CONN_ID,
    )


def measure(emulator: Emulator, parallelism: int, folder: Path) -> dict[str, Any]:
    """One extract; what the server saw (rows read, requests, the peak of requests served at once: since the
    emulator started, so the one-stream run goes first) and how long it took."""
    before = emulator.stats()
    started = time.perf_counter()
    result = run_task(extract(parallelism, folder))
    seconds = time.perf_counter() - started
    stats = emulator.stats()
    ids = [
        json.loads(line)["Id"]
        for uri in result["uris"]
        for line in Path(uri.removeprefix("file://")).read_text().splitlines()
    ]
    return {
        "records": result["count"],
        "unique": len(set(ids)),
        "rows_read": stats["rows_read"] - before["rows_read"],
        "requests": stats["requests"] - before["requests"],
        "peak_concurrency": stats["server"]["peak_concurrency"],
        "seconds": seconds,
        "records_per_s": result["count"] / seconds,
    }


def client_peak_mb(emulator: Emulator, count: int, folder: Path) -> float:
    """The client's peak memory (Python allocations, every lane's thread) of a parallel extract of ``count``
    records, with the server model off: its work changes how long the extract takes, not what the client holds."""
    seed(emulator, count)
    return peak_mb(lambda: run_task(extract(PARALLELISM, folder / f"memory-{count}")))


def run(bench: Bench) -> Result:
    emulator, count = bench.emulator, bench.scale.parallel_extract_records
    seed(emulator, count)
    emulator.configure(server_read_work_per_record=READ_WORK, server_workers=WORKERS)
    with tempfile.TemporaryDirectory(prefix="creatio-bench-parallel-") as folder:
        one = measure(emulator, 1, Path(folder))
        many = measure(emulator, PARALLELISM, Path(folder))
        emulator.configure(server_read_work_per_record=0.0)
        memory = {size: client_peak_mb(emulator, size, Path(folder)) for size in (count // 10, count)}
    emulator.reset()
    growth = memory[count] / memory[count // 10]
    speedup = many["records_per_s"] / one["records_per_s"]
    worst_read = max(figures["rows_read"] / count for figures in (one, many))
    exact = all(figures["records"] == figures["unique"] == count for figures in (one, many))
    rows: list[Row] = [
        (
            label,
            f"{one[key]:,.0f}",
            f"{many[key]:,.0f}",
            f"{many[key] / one[key]:.2f}x" if one[key] else "",
        )
        for label, key in (
            ("records per second", "records_per_s"),
            ("rows read by the server", "rows_read"),
            ("requests", "requests"),
            ("peak requests the server served at once", "peak_concurrency"),
        )
    ]
    rows += [
        (f"client peak memory, parallelism {PARALLELISM}: {size:,} records", "", f"{peak:.1f} MB", "")
        for size, peak in memory.items()
    ]
    return Result(
        key="parallel_extract",
        title="11. Parallel extract",
        measures=f"CreatioToObjectStorageOperator extracting {count:,} contacts (Id, Name, CreatedOn) to JSON Lines "
        f"files (file://) in pages of {PAGE_SIZE:,}, parallelism 1 against {PARALLELISM}; the emulator in its "
        f"own process with its server model on: {WORKERS} workers, {READ_WORK * 1e6:.0f} µs of work per record "
        "read",
        rows=rows,
        figures={
            "records": count,
            "parallelism_1": one,
            f"parallelism_{PARALLELISM}": many,
            "speedup": speedup,
            "client_peak_mb": {str(size): peak for size, peak in memory.items()},
            "growth_of_client_peak": growth,
        },
        notes=[
            "The ranges are CreatedOn slices between the first and the last record's, found with two one-record "
            "requests. The seeded records are spread evenly over five years, so the slices hold about as many "
            "records each; a table created mostly at once would read mostly in one range.",
            "Memory is the client's Python allocations (tracemalloc, all threads) in two more parallel extracts, "
            "of a tenth of the records and of all of them, with the server model off.",
        ],
        columns=("", "parallelism 1", f"parallelism {PARALLELISM}", "ratio"),
        targets=[
            Target(f"every record exactly once, both ways: {exact}", exact, behaviour=True),
            Target(
                f"rows read by the server at most {ROWS_READ_TARGET:g}x the records: {worst_read:.3f}x",
                worst_read <= ROWS_READ_TARGET,
                behaviour=True,
            ),
            Target(
                f"parallelism {PARALLELISM} at least {SPEEDUP_TARGET:g}x one stream: {speedup:.2f}x",
                speedup >= SPEEDUP_TARGET,
            ),
            Target(
                f"client peak flat from {count // 10:,} to {count:,} records (at most {FLAT_GROWTH:g}x): "
                f"{growth:.2f}x",
                growth <= FLAT_GROWTH,
            ),
        ],
    )
