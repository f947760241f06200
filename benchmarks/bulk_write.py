"""3. Bulk write throughput: the bulk operator against the loop a user would write by hand."""

from __future__ import annotations

from typing import Any

import requests

from airflow_provider_creatio.operators.entity import CreatioBulkEntityOperator
from benchmarks.harness import (
    CONN_ID,
    PASSWORD,
    USER,
    Bench,
    Result,
    Target,
    median,
    ratio,
    run_task,
    timed,
)

LATENCY = 0.005  # seconds the emulator adds to every OData request: a nearby Creatio site
TARGET_SPEEDUP = 20


def records(count: int) -> list[dict[str, Any]]:
    return [
        {"Name": f"Bulk {n}", "Email": f"bulk{n}@example.com", "JobTitle": "Tester"} for n in range(count)
    ]


def diy_loop(url: str, rows: list[dict[str, Any]]) -> None:
    """One POST per record over a plain requests session, as written by hand from Creatio's docs."""
    with requests.Session() as session:
        login = session.post(
            f"{url}/ServiceModel/AuthService.svc/Login", json={"UserName": USER, "UserPassword": PASSWORD}
        )
        login.raise_for_status()
        headers = {"BPMCSRF": session.cookies["BPMCSRF"], "ForceUseSession": "true"}
        for row in rows:
            session.post(f"{url}/0/odata/Contact", json=row, headers=headers).raise_for_status()


def bulk_operator(rows: list[dict[str, Any]]) -> dict[str, Any]:
    task = CreatioBulkEntityOperator(
        task_id="bulk_create", entity="Contact", operation="create", records=rows, creatio_conn_id=CONN_ID
    )
    summary: dict[str, Any] = run_task(task)
    return summary


def run(bench: Bench) -> Result:
    emulator, scale = bench.emulator, bench.scale
    rows = records(scale.bulk_records)
    provider_s: list[float] = []
    diy_s: list[float] = []
    requests_sent: dict[str, int] = {}
    for _ in range(scale.runs):  # alternated, so that a noisy moment hits both sides alike
        emulator.reset(faults={"latency": LATENCY})
        seconds, summary = timed(lambda: bulk_operator(rows))
        if summary["succeeded"] != len(rows):
            raise RuntimeError(f"the bulk create did not write every record: {summary}")
        provider_s.append(seconds)
        requests_sent["provider"] = emulator.stats()["requests"]
        emulator.reset(faults={"latency": LATENCY})
        diy_s.append(timed(lambda: diy_loop(emulator.url, rows))[0])
        requests_sent["diy"] = emulator.stats()["requests"]
    emulator.reset()
    provider, diy = median(provider_s), median(diy_s)
    speedup = diy / provider
    count = len(rows)
    figures: dict[str, Any] = {
        "records": count,
        "latency_s": LATENCY,
        "provider_seconds": provider_s,
        "diy_seconds": diy_s,
        "provider_records_per_s": count / provider,
        "diy_records_per_s": count / diy,
        "speedup": speedup,
        "provider_requests": requests_sent["provider"],
        "diy_requests": requests_sent["diy"],
    }
    return Result(
        key="bulk_write",
        title="3. Bulk write throughput",
        measures=f"{count:,} creates of Contact: CreatioBulkEntityOperator against a hand-written loop of one "
        f"POST per record on a requests session; the emulator adds {LATENCY * 1000:g} ms to every OData request",
        rows=[
            ("seconds (median)", f"{provider:.2f}", f"{diy:.2f}", ratio(diy, provider)),
            ("records per second", f"{count / provider:,.0f}", f"{count / diy:,.0f}", ratio(diy, provider)),
            (
                "HTTP requests",
                str(requests_sent["provider"]),
                str(requests_sent["diy"]),
                ratio(requests_sent["diy"], requests_sent["provider"]),
            ),
        ],
        figures=figures,
        columns=("figure", "bulk operator", "one POST per record", "ratio"),
        targets=[Target(f"at least {TARGET_SPEEDUP}x faster: {speedup:.1f}x", speedup >= TARGET_SPEEDUP)],
    )
