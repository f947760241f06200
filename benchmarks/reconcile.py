"""9. Id reconciliation (``deletes="reconcile"``): the key-only scan of every Id, sorted on the client and merged
with the previous snapshot; what it costs the server (requests, rows read) and the client (memory)."""

from __future__ import annotations

import tempfile
import uuid

from airflow_provider_creatio import reconciliation
from airflow_provider_creatio.client import CreatioClient, CreatioConfig, paging
from airflow_provider_creatio.client.keyset import MAX_PAGE_SIZE
from benchmarks.extract import rows_read, seed
from benchmarks.harness import PASSWORD, USER, Bench, Emulator, Result, Row, Target, timed
from benchmarks.streaming import FLAT_GROWTH, peak_mb

DELETED_SHARE = 0.01  # Ids of the previous snapshot that no longer exist


def measure(emulator: Emulator, count: int) -> dict[str, float]:
    seed(emulator, count)
    config = CreatioConfig(base_url=emulator.url, username=USER, password=PASSWORD)
    with CreatioClient(config) as client, tempfile.TemporaryDirectory() as folder:
        client.login()

        def scan() -> list[str]:
            records = paging.iter_keyset(client, "Contact", select=["Id"], page_size=MAX_PAGE_SIZE)
            return [record["Id"] for record in records]

        existing = scan()
        gone = [str(uuid.uuid4()) for _ in range(int(count * DELETED_SHARE))]
        previous = f"file://{folder}/previous.txt.gz"
        with reconciliation.id_sorter() as sorter, reconciliation.snapshot_writer(previous) as keep:
            for value in existing + gone:
                sorter.add(value)
            for value in sorter.sorted():
                keep(value)

        def reconcile() -> int:
            """What the extract does after its part files: scan, sort, merge, write the new snapshot."""
            with (
                reconciliation.id_sorter() as sorter,
                reconciliation.snapshot_writer(f"file://{folder}/current.txt.gz") as keep,
            ):
                for record in paging.iter_keyset(client, "Contact", select=["Id"], page_size=MAX_PAGE_SIZE):
                    sorter.add(record["Id"])
                old = reconciliation.read_snapshot(previous)
                return sum(1 for _ in reconciliation.removed(old, sorter.sorted(), keep))

        requests_before = emulator.stats()["requests"]
        seconds, (deleted, rows) = timed(lambda: rows_read(emulator, reconcile))
        requests = emulator.stats()["requests"] - requests_before
        return {
            "ids": count,
            "deleted_found": deleted,
            "deleted_expected": len(gone),
            "requests": requests,
            "rows_read": rows,
            "ids_per_s": count / seconds,
            "peak_mb": peak_mb(reconcile),
        }


def pages(ids: int) -> int:
    """Keyset pages of a scan: full ones, then the short (perhaps empty) one that says it is over."""
    return ids // MAX_PAGE_SIZE + 1


def run(bench: Bench) -> Result:
    emulator, scale = bench.emulator, bench.scale
    sizes = {count: measure(emulator, count) for count in scale.extract_sizes}
    emulator.reset()
    smallest, largest = sizes[min(sizes)], sizes[max(sizes)]
    growth = largest["peak_mb"] / smallest["peak_mb"]
    exact = all(figures["deleted_found"] == figures["deleted_expected"] for figures in sizes.values())
    requests_ok = all(figures["requests"] == pages(int(figures["ids"])) for figures in sizes.values())
    worst_read = max(figures["rows_read"] / figures["ids"] for figures in sizes.values())
    rows: list[Row] = []
    for figures in sizes.values():
        ids, expected_pages = f"{figures['ids']:,.0f}", pages(int(figures["ids"]))
        rows += [
            (f"{ids}: requests", f"{figures['requests']:,.0f}", f"{expected_pages:,}", "⌊N / page⌋ + 1"),
            (f"{ids}: rows read by the server", f"{figures['rows_read']:,.0f}", ids, "N"),
            (
                f"{ids}: deletions found",
                f"{figures['deleted_found']:,.0f}",
                f"{figures['deleted_expected']:,.0f}",
                "",
            ),
            (f"{ids}: Ids per second", f"{figures['ids_per_s']:,.0f}", "", ""),
            (f"{ids}: client peak memory", f"{figures['peak_mb']:.1f} MB", "", ""),
        ]
    return Result(
        key="reconcile",
        title="9. Id reconciliation (deletes)",
        measures=f"the key-only scan of Contact ($select=Id, keyset pages of {MAX_PAGE_SIZE:,}), sorted on the client "
        f"in runs of {reconciliation.SORT_RUN:,} Ids and merged with a previous snapshot holding "
        f"{DELETED_SHARE:.0%} more Ids (the deletions), writing the new snapshot (gzip, file://); the emulator in its "
        "own process; memory is the client's Python allocations (tracemalloc)",
        rows=rows,
        figures={"sort_run": reconciliation.SORT_RUN, "growth_of_peak": growth, "sizes": sizes},
        notes=["Memory is set by the sort run, not by the number of Ids: past one run, the peak stays flat."],
        columns=("Ids", "measured", "expected", "because"),
        targets=[
            Target("every deletion found, none invented", exact, behaviour=True),
            Target(
                f"requests = ⌊N / {MAX_PAGE_SIZE:,}⌋ + 1 (a short page ends the scan)",
                requests_ok,
                behaviour=True,
            ),
            Target(
                f"rows read by the server at most 1.05x the Ids: {worst_read:.3f}x",
                worst_read <= 1.05,
                behaviour=True,
            ),
            Target(
                f"client peak flat from {min(sizes):,} to {max(sizes):,} Ids (at most {FLAT_GROWTH:g}x): {growth:.2f}x",
                growth <= FLAT_GROWTH,
            ),
        ],
    )
