"""The benchmarks. Each returns its measured numbers; the runner compares them with the targets."""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
import tracemalloc
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from airflow_provider_creatio.client import (
    AsyncCreatioClient,
    CreatioClient,
    CreatioConfig,
    entities,
    odata,
    process,
)
from airflow_provider_creatio.testing.emulator import EmulatorServer


@dataclass(frozen=True)
class Target:
    metric: str  # key in the measured numbers
    limit: float
    higher_is_better: bool = False

    def met(self, measured: dict[str, float]) -> bool:
        value = measured[self.metric]
        return value >= self.limit if self.higher_is_better else value <= self.limit

    def describe(self) -> str:
        return f"{self.metric} {'>=' if self.higher_is_better else '<='} {self.limit:g}"


@dataclass(frozen=True)
class Benchmark:
    name: str
    measures: str
    targets: tuple[Target, ...]
    run: Callable[[EmulatorServer], dict[str, float]]


def config(server: EmulatorServer) -> CreatioConfig:
    return CreatioConfig(base_url=server.url, username="Supervisor", password="Supervisor")


def import_cost(_: EmulatorServer) -> dict[str, float]:
    code = (
        "import sys,time\nimport airflow.sdk\nbefore=set(sys.modules)\nt=time.perf_counter()\n"
        "import airflow_provider_creatio.operators.entity, airflow_provider_creatio.operators.process\n"
        "import airflow_provider_creatio.sensors.entity, airflow_provider_creatio.sensors.process\n"
        "ms=(time.perf_counter()-t)*1000\nnew={m.split('.')[0] for m in set(sys.modules)-before}\n"
        "print(ms, len(new & {'requests','urllib3','tenacity','httpx','yaml'}))"
    )
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        for _ in range(5)
    ]
    values = [line.stdout.split() for line in runs]
    return {
        "import_ms_median": statistics.median(float(v[0]) for v in values),
        "http_libraries_imported": max(float(v[1]) for v in values),
    }


def session_reuse(server: EmulatorServer) -> dict[str, float]:
    call = odata.query_records("Contact", select=["Id"], top=1)
    with CreatioClient(config(server)) as client:
        started = time.perf_counter()
        for _ in range(500):
            client.execute(call)
        elapsed = time.perf_counter() - started
        logins = client.login_count
    return {"logins": logins, "requests_per_s": 500 / elapsed}


def paging(server: EmulatorServer) -> dict[str, float]:
    server.reset()
    for n in range(25_000):
        server.store.insert("Contact", {"Name": f"Bench {n:05d}"})
    total = server.store.count("Contact") if hasattr(server.store, "count") else 25_000
    with CreatioClient(config(server)) as client:
        client.login()
        tracemalloc.start()
        started = time.perf_counter()
        seen = sum(1 for _ in entities.iter_records(client, "Contact", select=["Id", "Name"], page_size=1000))
        elapsed = time.perf_counter() - started
        _, streaming_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        held = list(entities.iter_records(client, "Contact", select=["Id", "Name"], page_size=1000))
        _, holding_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert seen == len(held) == total, (seen, len(held), total)
    return {
        "records": seen,
        "records_per_s": seen / elapsed,
        "streaming_peak_mb": streaming_peak / 2**20,
        "streaming_to_holding_peak": streaming_peak / holding_peak,
    }


def bulk_upsert(server: EmulatorServer) -> dict[str, float]:
    server.reset()
    records = [{"Id": str(uuid.uuid4()), "Name": f"Bulk {n}"} for n in range(1000)]
    for record in records[::2]:
        server.store.insert("Contact", record)
    before = server.count(path_contains="$batch")
    with CreatioClient(config(server)) as client:
        started = time.perf_counter()
        report = entities.bulk(client, "upsert", "Contact", records)
        elapsed = time.perf_counter() - started
        requests = client.request_count
    assert not report.failures
    return {
        "batch_calls": server.count(path_contains="$batch") - before,
        "requests": requests,
        "records_per_s": 1000 / elapsed,
    }


def async_concurrency(server: EmulatorServer) -> dict[str, float]:
    call = odata.query_records("Contact", select=["Id"], top=1)

    async def main() -> tuple[float, int]:
        async with AsyncCreatioClient(config(server)) as client:
            await client.login()
            started = time.perf_counter()
            await asyncio.gather(*(client.execute(call) for _ in range(200)))
            return time.perf_counter() - started, client.login_count

    elapsed, logins = asyncio.run(main())
    return {"logins": logins, "requests_per_s": 200 / elapsed}


def process_latency(server: EmulatorServer) -> dict[str, float]:
    call = process.run_process("UsrFullNameProcess", {"UserName": "A", "UserSurname": "B"}, ["FullName"])
    timings = []
    with CreatioClient(config(server)) as client:
        client.login()
        for _ in range(50):
            started = time.perf_counter()
            client.execute(call)
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {"median_ms": statistics.median(timings), "p95_ms": timings[int(len(timings) * 0.95) - 1]}


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(
        "import_cost",
        "importing every operator and sensor module after airflow.sdk (DAG files are parsed again and again)",
        (Target("import_ms_median", 150), Target("http_libraries_imported", 0)),
        import_cost,
    ),
    Benchmark(
        "session_reuse",
        "500 sequential OData reads on one client",
        (Target("logins", 1), Target("requests_per_s", 150, higher_is_better=True)),
        session_reuse,
    ),
    Benchmark(
        "paging_25k",
        "25,000 records read in pages of 1,000 (records/s, and client memory streamed vs held)",
        (Target("records_per_s", 5000, higher_is_better=True), Target("streaming_to_holding_peak", 0.3)),
        paging,
    ),
    Benchmark(
        "bulk_upsert_1000",
        "upsert of 1,000 records (half exist) through $batch",
        (Target("batch_calls", 10), Target("records_per_s", 500, higher_is_better=True)),
        bulk_upsert,
    ),
    Benchmark(
        "async_200",
        "200 concurrent reads on one async client (the trigger's transport)",
        (Target("logins", 1), Target("requests_per_s", 150, higher_is_better=True)),
        async_concurrency,
    ),
    Benchmark(
        "process_latency",
        "50 synchronous RunProcess calls of a process that finishes at once",
        (Target("p95_ms", 100),),
        process_latency,
    ),
)


def run_all() -> list[dict[str, Any]]:
    results = []
    with EmulatorServer() as server:
        for bench in BENCHMARKS:
            measured = bench.run(server)
            results.append(
                {
                    "name": bench.name,
                    "measures": bench.measures,
                    "measured": measured,
                    "targets": [{"target": t.describe(), "met": t.met(measured)} for t in bench.targets],
                }
            )
    return results
