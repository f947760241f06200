"""4. Query streaming: read many records page by page, and what that costs the client in memory."""

from __future__ import annotations

import tracemalloc
import uuid
from collections.abc import Callable
from typing import Any

from airflow_provider_creatio.client import CreatioClient, CreatioConfig, paging
from benchmarks.harness import PASSWORD, USER, Bench, Emulator, Result, Row, Target, median, timed

PAGE_SIZE = 1000
SELECT = ["Id", "Name", "Email", "ModifiedOn"]
FLAT_GROWTH = (
    1.25  # "flat": the peak at the largest size is at most this multiple of the peak at the smallest
)


def seed(emulator: Emulator, count: int) -> None:
    emulator.reset()
    emulator.insert(
        "Contact",
        [
            {"Id": str(uuid.uuid4()), "Name": f"Reader {n:06d}", "Email": f"r{n}@example.com"}
            for n in range(count)
        ],
    )


def peak_mb(action: Callable[[], Any]) -> float:
    """The highest amount of memory Python allocated while ``action`` ran, above what was allocated before."""
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return (peak - base) / 2**20


def measure(emulator: Emulator, count: int, runs: int) -> dict[str, float]:
    seed(emulator, count)
    config = CreatioConfig(base_url=emulator.url, username=USER, password=PASSWORD)
    with CreatioClient(config) as client:
        client.login()  # the session is not what is measured

        def stream() -> int:
            return sum(1 for _ in paging.iter_records(client, "Contact", select=SELECT, page_size=PAGE_SIZE))

        def hold() -> list[dict[str, Any]]:
            return list(paging.iter_records(client, "Contact", select=SELECT, page_size=PAGE_SIZE))

        seconds = [timed(stream) for _ in range(runs)]
        total = seconds[0][1]
        return {
            "records": total,
            "streaming_records_per_s": total / median([s for s, _ in seconds]),
            "holding_records_per_s": total / median([timed(hold)[0] for _ in range(runs)]),
            "streaming_peak_mb": peak_mb(stream),
            "holding_peak_mb": peak_mb(hold),
        }


def run(bench: Bench) -> Result:
    emulator, scale = bench.emulator, bench.scale
    sizes = {count: measure(emulator, count, scale.runs) for count in scale.stream_sizes}
    emulator.reset()
    smallest, largest = sizes[min(sizes)], sizes[max(sizes)]
    growth = largest["streaming_peak_mb"] / smallest["streaming_peak_mb"]
    rows: list[Row] = []
    for figures in sizes.values():
        records = f"{figures['records']:,.0f}"
        rows += [
            (
                f"{records}: peak memory",
                f"{figures['streaming_peak_mb']:.1f} MB",
                f"{figures['holding_peak_mb']:.1f} MB",
                f"{figures['holding_peak_mb'] / figures['streaming_peak_mb']:.1f}x less",
            ),
            (
                f"{records}: records per second",
                f"{figures['streaming_records_per_s']:,.0f}",
                f"{figures['holding_records_per_s']:,.0f}",
                f"{figures['streaming_records_per_s'] / figures['holding_records_per_s']:.2f}x",
            ),
        ]
    return Result(
        key="streaming",
        title="4. Query streaming",
        measures=f"paging.iter_records over Contact ({', '.join(SELECT)}) in pages of {PAGE_SIZE:,}, the "
        "emulator in its own process; the client's Python allocations (tracemalloc) while streaming against "
        "while holding every record in a list",
        rows=rows,
        figures={
            "page_size": PAGE_SIZE,
            "growth_of_streaming_peak": growth,
            "records_per_s": largest["streaming_records_per_s"],
            "sizes": sizes,
        },
        notes=[
            "What is left of the streaming peak's growth is held by bounded caches of the standard library, "
            "not by the records: urllib.parse keeps the last 128 parsed URLs (each page's URL differs by its "
            "$skip), and CPython's type attribute cache (4,096 entries) keeps the attribute names that "
            "http.cookiejar builds for every request. Both stop growing once full."
        ],
        columns=("records", "streaming", "holding every record", "ratio"),
        targets=[
            Target(
                f"streaming peak flat from {min(sizes):,} to {max(sizes):,} records "
                f"(at most {FLAT_GROWTH:g}x): {growth:.2f}x",
                growth <= FLAT_GROWTH,
            )
        ],
    )
