"""What every benchmark shares: the sizes, the result shape, medians, and the emulator in its own process."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests

from airflow_provider_creatio.testing.connection import connection_env_name, connection_json

T = TypeVar("T")
Row = tuple[str, str, str, str]
USER = PASSWORD = "Supervisor"
CONN_ID = "creatio_bench"


@dataclass(frozen=True)
class Scale:
    """How big each benchmark runs. ``FULL`` is what RESULTS.md records; ``QUICK`` only keeps them working."""

    runs: int  # repetitions behind every median
    parse_runs: int
    bulk_records: int
    query_records: int
    load_records: int  # records loaded from a file by ObjectStorageToCreatioOperator
    lanes_records: int  # records loaded on one lane and on eight, against the server model
    stream_sizes: tuple[int, ...]
    extract_sizes: tuple[int, ...]
    parallel_extract_records: int
    triggers: int
    trigger_window: float  # seconds of steady polling that are counted
    load_seconds: float  # seconds of load per headroom measurement
    file_mb: int  # the size of the one large file sent up and down
    small_files: int  # files of 100 KB loaded from S3 and copied back


FULL = Scale(
    runs=5,
    parse_runs=15,
    bulk_records=1000,
    query_records=25_000,
    load_records=100_000,
    lanes_records=20_000,
    stream_sizes=(10_000, 50_000, 100_000),
    extract_sizes=(100_000, 1_000_000),
    parallel_extract_records=1_000_000,
    triggers=1000,
    trigger_window=10.0,
    load_seconds=3.0,
    file_mb=200,
    small_files=1000,
)
QUICK = Scale(
    runs=1,
    parse_runs=3,
    bulk_records=100,
    query_records=2_500,
    load_records=2_500,
    lanes_records=1_000,
    stream_sizes=(1_000, 2_000, 4_000),
    extract_sizes=(2_000, 4_000),
    parallel_extract_records=4_000,
    triggers=50,
    trigger_window=1.0,
    load_seconds=0.5,
    file_mb=4,
    small_files=20,
)


@dataclass(frozen=True)
class Target:
    """One target and whether it was met. ``behaviour`` targets (request and login counts, threads) are facts
    that hold on any machine; the others are speed or memory figures, which only the recorded run judges."""

    text: str
    met: bool
    behaviour: bool = False


@dataclass
class Result:
    key: str
    title: str
    measures: str
    columns: Row  # the headings of the side-by-side table: figure, provider, compared with, ratio
    rows: list[Row]
    figures: dict[str, Any]  # every number measured, for results.json
    targets: list[Target]
    notes: list[str] = field(default_factory=list)  # explanations, profile excerpts

    @property
    def command(self) -> str:
        return f"python -m benchmarks --only {self.key}"


@dataclass
class Bench:
    """What one benchmark gets: the emulator, the sizes, and the results of the benchmarks run before it."""

    emulator: Emulator
    scale: Scale
    done: dict[str, Result] = field(default_factory=dict)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def timed(action: Callable[[], T]) -> tuple[float, T]:
    """Seconds ``action`` took, and what it returned."""
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:,.1f}x" if denominator else "-"


class Emulator:
    """The emulator CLI in a subprocess, so that its work does not share the interpreter (and its GIL and
    memory) with the client being measured. Controlled through its admin endpoints."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.admin = requests.Session()

    def _admin(self, method: str, name: str, body: Any = None) -> Any:
        answer = self.admin.request(method, f"{self.url}/__emulator__/{name}", json=body, timeout=120)
        answer.raise_for_status()
        return answer.json()

    def reset(self, **settings: Any) -> None:
        """Fresh seed data, empty log, no sessions; then ``settings`` (``faults={}`` turns latency off)."""
        self._admin("POST", "settings", {"faults": {}, **settings})
        self._admin("POST", "reset")

    def configure(self, **settings: Any) -> None:
        """Change ``settings`` and keep the data (``max_read_memory_mb=6``...)."""
        self._admin("POST", "settings", settings)

    def requests(self) -> list[dict[str, Any]]:
        """The request log since the last reset, oldest first (method, path, query, status...)."""
        logged: list[dict[str, Any]] = self._admin("GET", "requests")
        return logged

    def insert(self, entity: str, records: list[dict[str, Any]], chunk: int = 20_000) -> None:
        for start in range(0, len(records), chunk):
            self._admin("POST", "records", {"entity": entity, "records": records[start : start + chunk]})

    def stats(self) -> dict[str, Any]:
        """``{"logins", "requests", "per_path": {path: count}, "rows_read"}`` since the last reset."""
        stats: dict[str, Any] = self._admin("GET", "stats")
        return stats


@contextmanager
def emulator_process() -> Iterator[Emulator]:
    """Start ``python -m airflow_provider_creatio.testing.emulator --port 0`` and point the benchmark
    connection (``creatio_bench``) at it; stop it however the benchmarks end."""
    command = [sys.executable, "-m", "airflow_provider_creatio.testing.emulator", "--port", "0"]
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True)
        try:
            line = process.stdout.readline() if process.stdout else ""
            found = re.search(r"https?://\S+", line)
            if found is None:
                raise RuntimeError(f"the emulator did not start: {line!r}")
            emulator = Emulator(found.group(0))
            os.environ[connection_env_name(CONN_ID)] = connection_json(emulator.url, USER, PASSWORD)
            yield emulator
        except BaseException:
            log.seek(0)
            print("the emulator's last lines on stderr:", *log.readlines()[-20:], sep="\n", file=sys.stderr)
            raise
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class FakeTI:
    """The one part of a task context the operators use outside Airflow: pushing an extra XCom."""

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def run_task(operator: Any) -> Any:
    """Execute an operator as a worker would, minus Airflow's bookkeeping (the emulator counts the requests)."""
    return operator.execute(context={"ti": FakeTI()})
