"""12. Extract past the RAM limit: CreatioToObjectStorageOperator on a site whose
``MaxMemoryUsageToGetDataViaEntityCollection`` refuses the extract's page of 5,000 rows; the read asks the page
again at half the size and goes on at that size. What it costs: requests, refused requests, rows read."""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

from airflow_provider_creatio.client import CreatioClient, CreatioConfig, odata
from airflow_provider_creatio.testing.emulator.ram_limit import read_memory_mb
from airflow_provider_creatio.transfers.creatio_to_object_storage import CreatioToObjectStorageOperator
from benchmarks.harness import CONN_ID, PASSWORD, USER, Bench, Emulator, Result, Row, Target, run_task, timed

PAGE_SIZE = 5_000
SELECT = ["Name", "Email", "ModifiedOn"]


def seed(emulator: Emulator, count: int) -> None:
    emulator.reset()
    emulator.insert(
        "Contact",
        [
            {"Id": str(uuid.uuid4()), "Name": f"Reader {n:07d}", "Email": f"r{n}@example.com"}
            for n in range(count)
        ],
    )


def limit_refusing_the_page(emulator: Emulator) -> float:
    """A RAM limit that a page of half the extract's rows meets and a full page exceeds (midway between their
    sizes, as the emulator charges a read)."""
    config = CreatioConfig(base_url=emulator.url, username=USER, password=PASSWORD)
    with CreatioClient(config) as client:
        call = odata.query_records("Contact", select=["Id", *SELECT], orderby="Id", top=PAGE_SIZE)
        rows = client.execute(call).records
    return (read_memory_mb(rows[: PAGE_SIZE // 2]) + read_memory_mb(rows)) / 2


def extract(folder: Path) -> tuple[int, list[str]]:
    """The extract's count and the Ids it wrote."""
    operator = CreatioToObjectStorageOperator(
        task_id="extract",
        creatio_conn_id=CONN_ID,
        entity="Contact",
        select=SELECT,
        page_size=PAGE_SIZE,
        path=f"file://{folder}/",
    )
    result = run_task(operator)
    ids = [json.loads(line)["Id"] for part in folder.iterdir() for line in part.read_text().splitlines()]
    return int(result["count"]), ids


def measure(emulator: Emulator, count: int) -> dict[str, Any]:
    seed(emulator, count)
    limit = limit_refusing_the_page(emulator)
    emulator.configure(max_read_memory_mb=limit)
    before = emulator.stats()
    log_start = len(emulator.requests())
    with tempfile.TemporaryDirectory() as folder:
        seconds, (written, ids) = timed(lambda: extract(Path(folder)))
    after = emulator.stats()
    reads = [
        entry
        for entry in emulator.requests()[log_start:]
        if entry["method"] == "GET" and entry["path"].endswith("/Contact")
    ]
    return {
        "written": written,
        "unique_ids": len(set(ids)),
        "ids": len(ids),
        "limit_mb": limit,
        "requests": after["requests"] - before["requests"],
        "page_reads": len(reads),
        "refused": sum(1 for entry in reads if entry["status"] == 500),
        "page_sizes": sorted({int(entry["query"].split("$top=")[1].split("&")[0]) for entry in reads}),
        "rows_read": after["rows_read"] - before["rows_read"],
        "seconds": seconds,
    }


def run(bench: Bench) -> Result:
    emulator = bench.emulator
    count = max(bench.scale.load_records, 2 * PAGE_SIZE)
    figures = measure(emulator, count)
    emulator.reset()
    once = figures["ids"] == figures["unique_ids"] == figures["written"]
    rows: list[Row] = [
        (
            "records written (each once)",
            f"{figures['written']:,}",
            f"{figures['unique_ids']:,} distinct Ids",
            "",
        ),
        ("requests (login and schema included)", f"{figures['requests']:,}", "", ""),
        ("page reads / refused", f"{figures['page_reads']:,}", f"{figures['refused']:,} refused", ""),
        ("page sizes asked", ", ".join(f"{size:,}" for size in figures["page_sizes"]), "", ""),
        ("rows read by the server", f"{figures['rows_read']:,}", "", ratio_text(figures)),
        ("seconds", f"{figures['seconds']:.1f}", "", ""),
    ]
    return Result(
        key="ram_limit",
        title="12. Extract past the RAM limit",
        measures=f"CreatioToObjectStorageOperator over Contact ({', '.join(SELECT)}) with page_size {PAGE_SIZE:,}, "
        f"the emulator's max_read_memory_mb set to {figures['limit_mb']:.3f} MB (midway between what it charges "
        f"a page of {PAGE_SIZE // 2:,} and of {PAGE_SIZE:,} rows), in its own process",
        rows=rows,
        figures=figures,
        columns=("figure", "value", "", "rows read per record"),
        targets=[
            Target(f"every record exactly once: {once}", once, behaviour=True),
            Target(f"one refused page: {figures['refused']}", figures["refused"] == 1, behaviour=True),
        ],
    )


def ratio_text(figures: dict[str, Any]) -> str:
    return f"{figures['rows_read'] / figures['written']:.3f}" if figures["written"] else "-"
