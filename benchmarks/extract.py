"""8. Keyset extract: every record of a large entity, paged on Id, against a hand-written $skip loop; what each
costs the server (rows read, from the emulator's log) and the client (memory)."""

from __future__ import annotations

import uuid
from typing import Any

from airflow_provider_creatio.client import CreatioClient, CreatioConfig, odata, paging
from benchmarks.harness import PASSWORD, USER, Bench, Emulator, Result, Row, Target, timed
from benchmarks.streaming import FLAT_GROWTH, peak_mb

PAGE_SIZE = 1000  # the same page for both loops, so that requests match and only the server's cost differs
SELECT = ["Id", "Name", "Email", "ModifiedOn"]
ROWS_READ_TARGET = 1.05  # keyset: rows read by the server at most this multiple of the records extracted


def seed(emulator: Emulator, count: int) -> None:
    emulator.reset()
    emulator.insert(
        "Contact",
        [
            {"Id": str(uuid.uuid4()), "Name": f"Extract {n:07d}", "Email": f"e{n}@example.com"}
            for n in range(count)
        ],
    )


def skip_loop(client: CreatioClient) -> int:
    """What one writes by hand: $top/$skip with $orderby=Id until a short page."""
    extracted, skip = 0, 0
    while True:
        call = odata.query_records("Contact", select=SELECT, orderby="Id", top=PAGE_SIZE, skip=skip)
        got = len(client.execute(call).records)
        extracted += got
        skip += got
        if got < PAGE_SIZE:
            return extracted


def warm_up(client: CreatioClient) -> None:
    """One request of each kind, untimed: the emulator sorts a table for an order on first use (a database has
    its indexes already), for the range reads and for the $skip pages alike."""
    first = "00000000-0000-0000-0000-000000000000"
    client.execute(
        odata.query_records("Contact", select=SELECT, orderby="Id", top=1, filter=f"Id gt {first}")
    )
    client.execute(odata.query_records("Contact", select=SELECT, orderby="Id", top=1, skip=0))


def rows_read(emulator: Emulator, action: Any) -> tuple[int, int]:
    """(what ``action`` returned, rows the server read while it ran)."""
    before = emulator.stats()["rows_read"]
    value = action()
    return value, emulator.stats()["rows_read"] - before


def measure(emulator: Emulator, count: int) -> dict[str, float]:
    seed(emulator, count)
    config = CreatioConfig(base_url=emulator.url, username=USER, password=PASSWORD)
    with CreatioClient(config) as client:
        client.login()

        def keyset() -> int:
            return sum(1 for _ in paging.iter_keyset(client, "Contact", select=SELECT, page_size=PAGE_SIZE))

        warm_up(client)
        keyset_seconds, (total, keyset_rows) = timed(lambda: rows_read(emulator, keyset))
        skip_seconds, (skipped, skip_rows) = timed(lambda: rows_read(emulator, lambda: skip_loop(client)))
        return {
            "records": total,
            "skip_records": skipped,
            "keyset_rows_read": keyset_rows,
            "skip_rows_read": skip_rows,
            "keyset_records_per_s": total / keyset_seconds,
            "skip_records_per_s": skipped / skip_seconds,
            "keyset_peak_mb": peak_mb(keyset),
        }


def run(bench: Bench) -> Result:
    emulator, scale = bench.emulator, bench.scale
    sizes = {count: measure(emulator, count) for count in scale.extract_sizes}
    emulator.reset()
    smallest, largest = sizes[min(sizes)], sizes[max(sizes)]
    growth = largest["keyset_peak_mb"] / smallest["keyset_peak_mb"]
    worst_read = max(figures["keyset_rows_read"] / figures["records"] for figures in sizes.values())
    rows: list[Row] = []
    for figures in sizes.values():
        records = f"{figures['records']:,.0f}"
        rows += [
            (
                f"{records}: rows read by the server",
                f"{figures['keyset_rows_read']:,.0f}",
                f"{figures['skip_rows_read']:,.0f}",
                f"{figures['skip_rows_read'] / figures['keyset_rows_read']:,.0f}x fewer",
            ),
            (
                f"{records}: records per second",
                f"{figures['keyset_records_per_s']:,.0f}",
                f"{figures['skip_records_per_s']:,.0f}",
                f"{figures['keyset_records_per_s'] / figures['skip_records_per_s']:.2f}x",
            ),
            (f"{records}: client peak memory", f"{figures['keyset_peak_mb']:.1f} MB", "", ""),
        ]
    return Result(
        key="extract",
        title="8. Keyset extract",
        measures=f"paging.iter_keyset over Contact ({', '.join(SELECT)}) in pages of {PAGE_SIZE:,} (Id gt <last>) "
        "against a hand-written $top/$skip loop with $orderby=Id, the emulator in its own process; rows read are "
        "the emulator's cost model ($skip reads skip + top, an Id range reads its page); memory is the client's "
        "Python allocations (tracemalloc) while extracting",
        rows=rows,
        figures={"page_size": PAGE_SIZE, "growth_of_keyset_peak": growth, "sizes": sizes},
        notes=[
            "Records per second are the emulator's and the client's: the emulator answers a $skip page by slicing "
            "a sorted list, which costs it nothing per skipped row, so the $skip loop is not slowed here as on a "
            "SQL database, whose time follows the rows it reads (about N²/2p for the loop). Both loops run after "
            "one untimed request of each kind, which has the emulator sort the table for the order (a database "
            "has its indexes already)."
        ],
        columns=("records", "keyset (iter_keyset)", "$skip loop", "ratio"),
        targets=[
            Target(
                f"rows read by the server at most {ROWS_READ_TARGET:g}x the records: {worst_read:.3f}x",
                worst_read <= ROWS_READ_TARGET,
                behaviour=True,
            ),
            Target(
                f"client peak flat from {min(sizes):,} to {max(sizes):,} records (at most {FLAT_GROWTH:g}x): "
                f"{growth:.2f}x",
                growth <= FLAT_GROWTH,
            ),
        ],
    )
