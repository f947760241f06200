"""2. Round trips: HTTP requests and logins of typical tasks, counted by the emulator, against the lower bound."""

from __future__ import annotations

import math
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_provider_creatio.client.batch import MAX_BATCH_SIZE, lookup_ids_per_request
from airflow_provider_creatio.operators.entity import CreatioBulkEntityOperator, CreatioQueryEntitiesOperator
from airflow_provider_creatio.operators.process import CreatioRunProcessOperator
from benchmarks.harness import CONN_ID, Bench, Emulator, Result, Row, Scale, Target, run_task

LOGIN = "/ServiceModel/AuthService.svc/Login"
LOGOUT = "/ServiceModel/AuthService.svc/Logout"
PAGE_SIZE = 1000
UPSERT = "bulk upsert of {bulk:,} records (half exist)"


@dataclass(frozen=True)
class Task:
    name: str
    bound: int  # data requests at the least: what the task cannot do with fewer
    bound_text: str
    prepare: Callable[[Emulator], None]
    operator: Callable[[], Any]


def upsert_records(count: int) -> list[dict[str, Any]]:
    return [{"Id": str(uuid.UUID(int=n + 1)), "Name": f"Upserted {n}"} for n in range(count)]


def tasks(scale: Scale, folder: Path) -> list[Task]:
    bulk, query = scale.bulk_records, scale.query_records
    writes = math.ceil(bulk / MAX_BATCH_SIZE)
    per_get = lookup_ids_per_request()  # Ids per lookup GET within Creatio's 100 $filter nodes
    lookups = math.ceil(bulk / per_get / MAX_BATCH_SIZE)

    def half_exist(emulator: Emulator) -> None:
        emulator.insert("Contact", [{**r, "Name": "Old"} for r in upsert_records(bulk)[::2]])

    def query_rows(emulator: Emulator) -> None:
        emulator.insert("Contact", [{"Name": f"Queried {n:06d}"} for n in range(query)])

    return [
        Task(
            "run a process (RunProcess with an output)",
            1,
            "1 call",
            lambda emulator: None,
            lambda: CreatioRunProcessOperator(
                task_id="run",
                process_name="UsrFullNameProcess",
                parameters={"UserName": "Ada", "UserSurname": "Lovelace"},
                result_parameters="FullName",
                creatio_conn_id=CONN_ID,
            ),
        ),
        Task(
            f"bulk create of {bulk:,} records",
            1 + writes,
            f"1 $metadata read (check_columns) + ceil({bulk:,}/100) = {writes} batches",
            lambda emulator: None,
            lambda: CreatioBulkEntityOperator(
                task_id="create",
                entity="Contact",
                operation="create",
                records=[{"Name": f"Created {n}"} for n in range(bulk)],
                creatio_conn_id=CONN_ID,
            ),
        ),
        Task(
            UPSERT.format(bulk=bulk),
            1 + lookups + writes,
            f"1 $metadata read (check_columns) + ceil({bulk:,}/{per_get}/100) = {lookups} lookup batch + "
            f"ceil({bulk:,}/100) = {writes} write batches",
            half_exist,
            lambda: CreatioBulkEntityOperator(
                task_id="upsert",
                entity="Contact",
                operation="upsert",
                records=upsert_records(bulk),
                creatio_conn_id=CONN_ID,
            ),
        ),
        Task(
            f"query of {query:,} records, pages of {PAGE_SIZE:,}",
            math.ceil(query / PAGE_SIZE),
            f"ceil({query:,}/{PAGE_SIZE:,}) = {math.ceil(query / PAGE_SIZE)} pages",
            query_rows,
            lambda: CreatioQueryEntitiesOperator(
                task_id="query",
                entity="Contact",
                filter={"Name__startswith": "Queried "},
                select=["Id", "Name"],
                page_size=PAGE_SIZE,
                output_path=str(folder / "records.jsonl"),
                creatio_conn_id=CONN_ID,
            ),
        ),
    ]


def count(emulator: Emulator, task: Task) -> dict[str, int]:
    emulator.reset()
    task.prepare(emulator)  # through the admin endpoints, which the request log leaves out
    run_task(task.operator())
    stats = emulator.stats()
    per_path = stats["per_path"]
    logins, logouts = per_path.get(LOGIN, 0), per_path.get(LOGOUT, 0)
    return {
        "logins": stats["logins"],
        "data_requests": stats["requests"] - logins - logouts,
        "logouts": logouts,
        "total_requests": stats["requests"],
        "bound": task.bound,
    }


def run(bench: Bench) -> Result:
    emulator, scale = bench.emulator, bench.scale
    with tempfile.TemporaryDirectory() as folder:
        measured = {task.name: (task, count(emulator, task)) for task in tasks(scale, Path(folder))}
    emulator.reset()
    rows: list[Row] = []
    targets: list[Target] = []
    for name, (task, figures) in measured.items():
        lowest = 1 + task.bound
        rows.append(
            (
                name,
                f"{figures['logins']} login + {figures['data_requests']} = {figures['logins'] + figures['data_requests']}"
                f" (+ {figures['logouts']} logout)",
                f"1 login + {task.bound_text} = {lowest}",
                f"{(figures['logins'] + figures['data_requests']) / lowest:.2f}x",
            )
        )
        exact = figures["logins"] == 1 and figures["data_requests"] == task.bound
        targets.append(Target(f"{name}: exactly the lower bound ({lowest})", exact, behaviour=True))
    upsert = measured[UPSERT.format(bulk=scale.bulk_records)][1]
    issue_bound = 1 + math.ceil(scale.bulk_records / MAX_BATCH_SIZE)
    rows.append(
        (
            "the same upsert, by the issue's formula",
            str(upsert["logins"] + upsert["data_requests"]),
            f"1 login + ceil(N/100) = {issue_bound}",
            f"{(upsert['logins'] + upsert['data_requests']) / issue_bound:.2f}x",
        )
    )
    return Result(
        key="round_trips",
        title="2. Round trips",
        measures="HTTP requests and logins of one task, counted by the emulator's request log; the task runs "
        "the operator as a worker would (one hook, logged out at the end)",
        rows=rows,
        figures={name: figures for name, (_, figures) in measured.items()},
        targets=targets,
        columns=("task", "requests", "lower bound", "ratio"),
        notes=[
            "The bound of an upsert includes its existence lookups (`$batch`es of up to 100 GETs): Creatio has no "
            "upsert verb, and a site may answer a PATCH of a missing record with 404, so knowing which records "
            "exist is the price of sending each one the right way in one pass. Without the lookup, every chunk "
            "holding a new record would need a second batch. A lookup GET names only as many Ids as fit in "
            "Creatio's 100 `$filter` nodes (`MaxNodeCount`; an `Id eq` costs 4 nodes and each `or` 1 more: 20 "
            "Ids), so a lookup batch covers 2,000 Ids, not the 10,000 of earlier versions, whose 100-Id filters "
            "(about 400 nodes) a real site refuses; up to 2,000 records the bound is unchanged. By the issue's "
            "formula (1 login + ceil(N/20/100) lookup batches + ceil(N/100) write batches) the upsert makes one "
            "request more than that, for the schema read of its column check (on by default for bulk; "
            "`check_columns=False` saves it).",
            "The logout at the end of each task is counted apart: it is one request per task, outside the bound.",
        ],
    )
