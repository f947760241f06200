"""6. Emulator headroom: what the emulator serves when the client costs (almost) nothing.

A bare asyncio HTTP/1.1 client on keep-alive connections sends the same bytes again and again and reads only the
status line, the headers and the body's length: no JSON, no retries. What it achieves is the emulator's capacity
for that request; the benchmarks above are the client's figures only where they stay well below it.

With the server model on (``SERVER_MODEL``), the same client's ``$batch`` creates must reach the ceiling the model
sets (workers x records / work of one batch): then a client measured against the model meets the model, not the
emulator's own limits.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from airflow_provider_creatio.client import batch
from benchmarks import streaming
from benchmarks.harness import PASSWORD, USER, Bench, Emulator, Result, Row, Target, median

_LENGTH = re.compile(rb"content-length:\s*(\d+)", re.IGNORECASE)
CONNECTIONS = 8
# The client's figures measure the client when the emulator could serve at least twice as much.
MIN_HEADROOM = 2.0
# A Creatio-like application server: 8 workers, 50 ms per request, 5 ms per record written.
SERVER_MODEL = {"server_workers": 8, "server_request_work": 0.05, "server_write_work_per_record": 0.005}
SERVER_MODEL_OFF = {"server_request_work": 0.0, "server_write_work_per_record": 0.0}
BATCH = 100  # creates per $batch
# The share of the model's ceiling the emulator must serve: the rest is its own handling and the round trip.
MIN_SHARE_OF_CEILING = 0.9


@dataclass(frozen=True)
class Load:
    name: str
    request: bytes
    items: int  # records (or polls) one answer stands for
    # (benchmark key, figure): what the client reached on this kind of request
    client_figure: tuple[str, str]


def session_headers(url: str) -> str:
    """Cookie and BPMCSRF header lines of a fresh session."""
    with requests.Session() as session:
        answer = session.post(
            f"{url}/ServiceModel/AuthService.svc/Login", json={"UserName": USER, "UserPassword": PASSWORD}
        )
        answer.raise_for_status()
        cookies = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        return f"Cookie: {cookies}\r\nBPMCSRF: {session.cookies['BPMCSRF']}\r\nForceUseSession: true\r\n"


def http_request(url: str, method: str, path: str, headers: str, body: bytes = b"") -> bytes:
    host = urlsplit(url).netloc
    head = f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n{headers}"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


def batch_of_creates(url: str, headers: str) -> bytes:
    """A JSON ``$batch`` of ``BATCH`` Contact creates, as the provider's bulk writes send it."""
    creates = [
        batch.BatchOperation(batch.BatchKind.CREATE, "Contact", None, {"Name": "Load"}) for _ in range(BATCH)
    ]
    document = json.dumps(batch.encode_batch(creates)).encode()
    return http_request(url, "POST", "/0/odata/$batch", headers + "Prefer: continue-on-error\r\n", document)


def loads(emulator: Emulator, case_id: str) -> list[Load]:
    headers = session_headers(emulator.url)
    page = "/0/odata/Contact?$select=Id,Name,Email,ModifiedOn&$orderby=Id&$top=1000&$skip=0"
    return [
        Load(
            "GET one record (a trigger's poll)",
            http_request(emulator.url, "GET", f"/0/odata/Case({case_id})", headers),
            1,
            ("deferrable", "polls_per_s"),
        ),
        Load(
            "$batch of 100 creates (bulk write)",
            batch_of_creates(emulator.url, headers),
            BATCH,
            ("bulk_write", "provider_records_per_s"),
        ),
        Load(
            "GET a page of 1,000 records (query streaming)",
            http_request(emulator.url, "GET", page, headers),
            1000,
            ("streaming", "records_per_s"),
        ),
    ]


async def answers_per_second(url: str, request: bytes, seconds: float) -> float:
    parts = urlsplit(url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds

    async def connection() -> int:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        answered = 0
        while loop.time() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 2"):
                raise RuntimeError(f"the emulator refused the load request: {head[:40]!r}")
            length = _LENGTH.search(head)
            await reader.readexactly(int(length.group(1)) if length else 0)
            answered += 1
        writer.close()
        await writer.wait_closed()
        return answered

    started = time.perf_counter()
    total = sum(await asyncio.gather(*(connection() for _ in range(CONNECTIONS))))
    return total / (time.perf_counter() - started)


def client_rate(bench: Bench, load: Load) -> float | None:
    if load.client_figure[0] not in bench.done:
        return None
    key, figure = load.client_figure
    value = bench.done[key].figures.get(figure)
    return float(value) if value is not None else None


def model_ceiling() -> float:
    """Records per second the server model allows for ``$batch`` creates: every worker busy all the time."""
    work = SERVER_MODEL["server_request_work"] + BATCH * SERVER_MODEL["server_write_work_per_record"]
    return SERVER_MODEL["server_workers"] * BATCH / work


def under_the_server_model(bench: Bench) -> tuple[Row, dict[str, float], list[Target]]:
    """``$batch`` creates at ``CONNECTIONS`` connections with the server model on, against its ceiling."""
    emulator = bench.emulator
    emulator.reset(**SERVER_MODEL)
    try:
        request = batch_of_creates(emulator.url, session_headers(emulator.url))
        rates = [
            asyncio.run(answers_per_second(emulator.url, request, bench.scale.load_seconds))
            for _ in range(bench.scale.runs)
        ]
        peak = emulator.stats()["server"]["peak_concurrency"]
    finally:
        emulator.reset(**SERVER_MODEL_OFF)
    served, ceiling = median(rates) * BATCH, model_ceiling()
    name = f"$batch of {BATCH} creates, server model on (8 workers, 50 ms + 5 ms per record)"
    row = (name, f"{served:,.0f} records/s", f"ceiling {ceiling:,.0f} records/s", f"{served / ceiling:.0%}")
    targets = [
        Target(
            f"server model: at least {MIN_SHARE_OF_CEILING:.0%} of its ceiling: {served / ceiling:.0%}",
            served >= MIN_SHARE_OF_CEILING * ceiling,
        ),
        Target(
            f"server model: all {CONNECTIONS} workers busy at once: peak {peak}", peak == CONNECTIONS, True
        ),
    ]
    figures = {"records_per_s": served, "ceiling_records_per_s": ceiling, "peak_concurrency": float(peak)}
    return row, figures, targets


def run(bench: Bench) -> Result:
    emulator, scale = bench.emulator, bench.scale
    streaming.seed(emulator, 2000)  # pages of the same records as the streaming benchmark reads
    case_id = str(uuid.uuid4())
    emulator.insert("Case", [{"Id": case_id, "Subject": "Polled"}])
    rows: list[Row] = []
    figures: dict[str, dict[str, float]] = {}
    targets: list[Target] = []
    for load in loads(emulator, case_id):
        rates = [
            asyncio.run(answers_per_second(emulator.url, load.request, scale.load_seconds))
            for _ in range(scale.runs)
        ]
        served = median(rates) * load.items
        figures[load.name] = {"answers_per_s": median(rates), "items_per_s": served}
        client = client_rate(bench, load)
        unit = "polls" if load.items == 1 else "records"
        if client is None:
            rows.append((load.name, f"{served:,.0f} {unit}/s", "-", "-"))
            continue
        figures[load.name]["headroom"] = served / client
        rows.append(
            (
                load.name,
                f"{served:,.0f} {unit}/s",
                f"{client:,.0f} {unit}/s",
                f"{served / client:.1f}x",
            )
        )
        targets.append(
            Target(
                f"{load.name}: at least {MIN_HEADROOM:g}x headroom: {served / client:.1f}x",
                served / client >= MIN_HEADROOM,
            )
        )
    row, figures["server model"], model_targets = under_the_server_model(bench)
    rows.append(row)
    targets += model_targets
    emulator.reset()
    return Result(
        key="headroom",
        title="6. Emulator headroom",
        measures=f"a bare asyncio HTTP/1.1 client on {CONNECTIONS} keep-alive connections sending the same "
        f"request for {scale.load_seconds:g} s (median of {scale.runs}), against the emulator in its own "
        "process; compared with what the client reached on the same kind of request above; and with the "
        "server model on, compared with the ceiling the model sets (workers x records / work of one batch)",
        rows=rows,
        figures=figures,
        targets=targets,
        columns=("request", "the emulator serves", "the client reached", "headroom"),
    )
