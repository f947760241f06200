"""The server model: workers and their queue, session modes, the RAM limit of a read, the API call quota.

Timing is never asserted: the stats count what the server did (work as configured, peaks, requests that waited).
Concurrent requests run long enough (half a second of work) that they overlap on a loaded machine too.
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from emulator_helpers import login

from airflow_provider_creatio.testing.emulator import EmulatorServer
from airflow_provider_creatio.testing.emulator.__main__ import parse_args
from airflow_provider_creatio.testing.emulator.log import utc_day
from airflow_provider_creatio.testing.emulator.ram_limit import read_memory_mb
from airflow_provider_creatio.testing.emulator.server_model import Slots

API_TEST = "12d21632-8b20-45d9-942f-20fcbbf2957c"
SLOW = 0.5  # seconds of work per request where requests must overlap
RAM_LIMIT = "Request processing terminated because it reached the RAM consumption limit of {} MB."


def same_session(api: requests.Session) -> requests.Session:
    """Another connection of the same Creatio session (requests.Session is not shared between threads)."""
    session = requests.Session()
    session.cookies.update(api.cookies)
    session.headers.update(api.headers)
    return session


def at_once(sessions: list[requests.Session], url: str) -> list[int]:
    """GET ``url`` once through each session, all at the same time; the statuses."""
    with ThreadPoolExecutor(len(sessions)) as pool:
        return list(pool.map(lambda session: session.get(url, timeout=30).status_code, sessions))


def server_stats(creatio: EmulatorServer) -> dict[str, Any]:
    stats: dict[str, Any] = requests.get(f"{creatio.url}/__emulator__/stats", timeout=5).json()["server"]
    return stats


def creates(count: int) -> dict[str, Any]:
    return {
        "requests": [
            {"id": str(n), "method": "POST", "url": "Contact", "body": {"Name": f"Batched {n}"}}
            for n in range(count)
        ]
    }


# -- workers and work ---------------------------------------------------------------------------------------------


def test_requests_beyond_the_workers_wait_in_line(
    creatio: EmulatorServer, api: requests.Session, odata: str
) -> None:
    creatio.settings.server_request_work = SLOW
    creatio.settings.server_workers = 2

    statuses = at_once([same_session(api) for _ in range(3)], f"{odata}/Contact({API_TEST})")

    stats = server_stats(creatio)
    assert statuses == [200] * 3
    assert (stats["peak_concurrency"], stats["queued"]) == (2, 1)
    assert stats["max_queue_seconds"] > 0
    assert stats["queue_seconds"] == stats["max_queue_seconds"]
    assert stats["work_seconds"] == pytest.approx(3 * SLOW)


def test_work_is_counted_per_request_per_row_read_and_per_record_written(
    creatio: EmulatorServer, api: requests.Session, odata: str
) -> None:
    creatio.settings.server_request_work = 0.05
    creatio.settings.server_write_work_per_record = 0.005
    creatio.settings.server_read_work_per_record = 0.001

    written = api.post(f"{odata}/$batch", json=creates(100))
    batch_work = server_stats(creatio)["work_seconds"]
    read = api.get(f"{odata}/Contact", params={"$top": "10", "$select": "Id"})

    assert written.status_code == 200 and len(written.json()["responses"]) == 100
    assert len(read.json()["value"]) == 10
    assert batch_work == pytest.approx(0.05 + 100 * 0.005)  # one worker held for 0.55 s
    assert server_stats(creatio)["work_seconds"] == pytest.approx(0.55 + 0.05 + 10 * 0.001)


def test_a_batch_read_counts_the_rows_it_returns(
    creatio: EmulatorServer, api: requests.Session, odata: str
) -> None:
    creatio.settings.server_read_work_per_record = 0.01
    reads = [
        {"id": "1", "method": "GET", "url": "Contact?$select=Id"},
        {"id": "2", "method": "GET", "url": f"Contact({API_TEST})"},
        {"id": "3", "method": "GET", "url": "Contact/$count"},
    ]

    answer = api.post(f"{odata}/$batch", json={"requests": reads})

    assert [item["status"] for item in answer.json()["responses"]] == [200, 200, 200]
    assert server_stats(creatio)["work_seconds"] == pytest.approx((3 + 1) * 0.01)  # a count returns no rows


def test_failed_writes_cost_no_write_work(creatio: EmulatorServer, api: requests.Session, odata: str) -> None:
    creatio.settings.server_write_work_per_record = 0.01

    refused = api.post(f"{odata}/Contact", json={"NoSuchColumn": 1})
    deleted = api.delete(f"{odata}/Contact({uuid.uuid4()})")

    assert (refused.status_code, deleted.status_code) == (400, 404)
    assert server_stats(creatio)["work_seconds"] == 0


# -- session modes ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mode", "one_at_a_time"), [("blocking", True), ("nonblocking", False)])
def test_the_session_mode_decides_whether_one_session_is_served_side_by_side(
    creatio: EmulatorServer, api: requests.Session, odata: str, mode: str, one_at_a_time: bool
) -> None:
    creatio.settings.session_mode = mode  # type: ignore[assignment]
    creatio.settings.server_request_work = SLOW

    statuses = at_once([same_session(api) for _ in range(4)], f"{odata}/Contact({API_TEST})")

    stats = server_stats(creatio)
    assert statuses == [200] * 4
    assert (stats["peak_session_concurrency"] == 1) is one_at_a_time
    assert (stats["queued"] == 3) is one_at_a_time


def test_blocking_mode_serves_different_sessions_side_by_side(creatio: EmulatorServer, odata: str) -> None:
    creatio.settings.session_mode = "blocking"
    sessions = [login(creatio.url) for _ in range(2)]
    creatio.settings.server_request_work = SLOW

    statuses = at_once(sessions, f"{odata}/Contact({API_TEST})")

    stats = server_stats(creatio)
    assert statuses == [200, 200]
    assert (stats["peak_concurrency"], stats["peak_session_concurrency"], stats["queued"]) == (2, 1, 0)


def test_blocking_mode_takes_a_bearer_token_for_a_session(creatio: EmulatorServer, odata: str) -> None:
    creatio.settings.session_mode = "blocking"
    form = {
        "grant_type": "client_credentials",
        "client_id": "airflow-client",
        "client_secret": "airflow-secret",
    }
    token = requests.post(f"{creatio.identity_url}/connect/token", data=form, timeout=5).json()[
        "access_token"
    ]
    sessions = [requests.Session() for _ in range(3)]
    for session in sessions:
        session.headers["Authorization"] = f"Bearer {token}"
    creatio.settings.server_request_work = SLOW

    statuses = at_once(sessions, f"{odata}/Contact({API_TEST})")

    assert statuses == [200] * 3
    assert (server_stats(creatio)["peak_session_concurrency"], server_stats(creatio)["queued"]) == (1, 2)


# -- the RAM limit of a read --------------------------------------------------------------------------------------


@pytest.fixture
def readers(creatio: EmulatorServer) -> None:
    """5,000 Contacts as the streaming benchmark seeds them (about 1.7 KB each in full)."""
    for n in range(5000):
        creatio.store.insert(
            "Contact", {"Id": str(uuid.uuid4()), "Name": f"Reader {n:06d}", "Email": f"r{n}@example.com"}
        )


@pytest.mark.usefixtures("readers")
def test_a_read_past_the_ram_limit_answers_500_in_creatios_words(
    creatio: EmulatorServer, api: requests.Session, odata: str
) -> None:
    creatio.settings.max_read_memory_mb = 6

    large = api.get(f"{odata}/Contact", params={"$top": "5000"})
    small = api.get(f"{odata}/Contact", params={"$top": "2500"})

    assert large.status_code == 500
    assert large.json() == {"error": {"code": "", "message": RAM_LIMIT.format(6)}}
    assert small.status_code == 200
    assert len(small.json()["value"]) == 2500
    assert read_memory_mb(small.json()["value"]) <= 6 < 2 * read_memory_mb(small.json()["value"])


@pytest.mark.usefixtures("readers")
def test_the_ram_limit_charges_the_columns_a_read_returns(
    creatio: EmulatorServer, api: requests.Session, odata: str
) -> None:
    creatio.settings.max_read_memory_mb = 0.5

    full = api.get(f"{odata}/Contact", params={"$top": "2500"})
    narrow = api.get(f"{odata}/Contact", params={"$top": "2500", "$select": "Id,Name,Email,ModifiedOn"})
    batched = api.post(f"{odata}/$batch", json={"requests": [{"id": "1", "method": "GET", "url": "Contact"}]})

    assert full.json()["error"]["message"] == RAM_LIMIT.format(0.5)
    assert narrow.status_code == 200 and read_memory_mb(narrow.json()["value"]) <= 0.5
    assert batched.json()["responses"][0]["status"] == 500


# -- the API call quota -------------------------------------------------------------------------------------------


def test_each_operation_of_a_batch_counts_as_a_call(
    creatio: EmulatorServer, api: requests.Session, odata: str
) -> None:
    api.post(f"{odata}/$batch", json=creates(3))
    api.get(f"{odata}/Contact({API_TEST})")
    api.get(f"{creatio.url}/0/ServiceModel/ProcessEngineService.svc/UsrFullNameProcess/Execute")

    log = creatio.requests
    assert [(entry.path.rsplit("/", 1)[-1], entry.api_calls) for entry in log] == [
        ("Login", 0),
        ("$batch", 3),
        (f"Contact({API_TEST})", 1),
        ("Execute", 1),
    ]
    assert creatio.stats()["api_calls"] == {"Supervisor": {utc_day(log[-1].timestamp): 5}}


def test_bearer_calls_count_for_their_oauth_client(creatio: EmulatorServer, odata: str) -> None:
    form = {
        "grant_type": "client_credentials",
        "client_id": "airflow-client",
        "client_secret": "airflow-secret",
    }
    token = requests.post(f"{creatio.identity_url}/connect/token", data=form, timeout=5).json()[
        "access_token"
    ]

    requests.get(f"{odata}/Contact({API_TEST})", headers={"Authorization": f"Bearer {token}"}, timeout=5)

    assert list(creatio.stats()["api_calls"]) == ["airflow-client"]


def test_past_the_hard_cap_calls_are_refused_with_429(
    creatio: EmulatorServer, api: requests.Session, odata: str
) -> None:
    creatio.settings.api_call_hard_cap = 2
    batch = api.post(f"{odata}/$batch", json=creates(3))  # under the cap when it came: served whole

    refused = api.get(f"{odata}/Contact({API_TEST})")

    assert batch.status_code == 200 and len(batch.json()["responses"]) == 3
    assert refused.status_code == 429
    assert refused.json() == {
        "Message": "The daily limit of 2 API calls for user 'Supervisor' has been reached. "
        "The count resets at 00:00 UTC.",
        "ExceptionType": "System.Web.HttpException",
        "StackTrace": None,
    }
    assert 1 <= int(refused.headers["Retry-After"]) <= 86400
    assert creatio.requests[-1].api_calls == 0  # a refused call is not counted
    assert login(creatio.url).cookies  # logins are not API calls, and never refused


# -- off by default, live, and on the command line ----------------------------------------------------------------


def test_off_by_default(creatio: EmulatorServer, api: requests.Session, odata: str) -> None:
    for n in range(300):
        creatio.store.insert("Contact", {"Name": f"Contact {n}", "Notes": "x" * 4000})

    statuses = at_once([same_session(api) for _ in range(4)], f"{odata}/Contact")
    for _ in range(50):
        api.get(f"{odata}/Contact({API_TEST})")

    stats = creatio.stats()
    assert statuses == [200] * 4
    assert (creatio.settings.session_mode, creatio.settings.max_read_memory_mb) == ("nonblocking", None)
    assert (stats["server"]["work_seconds"], stats["server"]["queued"]) == (0, 0)
    assert sum(stats["api_calls"]["Supervisor"].values()) == 54


def test_the_settings_change_over_the_admin_endpoint(creatio: EmulatorServer) -> None:
    patch = {
        "server_request_work": 0.05,
        "server_read_work_per_record": 0.001,
        "server_write_work_per_record": 0.005,
        "server_workers": 4,
        "session_mode": "blocking",
        "max_read_memory_mb": 6,
        "api_call_hard_cap": 10000,
    }

    answer = requests.post(f"{creatio.url}/__emulator__/settings", json=patch, timeout=5)

    assert answer.status_code == 200
    assert {name: answer.json()[name] for name in patch} == patch


@pytest.mark.parametrize(
    "patch",
    [
        {"server_request_work": -1},
        {"server_workers": 0},
        {"session_mode": "sometimes"},
        {"max_read_memory_mb": 0},
        {"api_call_hard_cap": 0},
    ],
)
def test_bad_server_settings_are_refused(creatio: EmulatorServer, patch: dict[str, object]) -> None:
    answer = requests.post(f"{creatio.url}/__emulator__/settings", json=patch, timeout=5)

    assert answer.status_code == 400


def test_the_command_line_flags() -> None:
    args = parse_args(
        [
            "--server-request-work", "0.05",
            "--server-read-work-per-record", "0.001",
            "--server-write-work-per-record", "0.005",
            "--server-workers", "4",
            "--session-mode", "blocking",
            "--max-read-memory-mb", "6",
            "--api-call-hard-cap", "10000",
        ]
    )  # fmt: skip
    defaults = parse_args([])

    assert (
        args.server_request_work,
        args.server_read_work_per_record,
        args.server_write_work_per_record,
    ) == (
        0.05,
        0.001,
        0.005,
    )
    assert (args.server_workers, args.session_mode, args.max_read_memory_mb, args.api_call_hard_cap) == (
        4,
        "blocking",
        6.0,
        10000,
    )
    assert (defaults.server_request_work, defaults.session_mode, defaults.max_read_memory_mb) == (
        0.0,
        "nonblocking",
        None,
    )


# -- the slot pool ----------------------------------------------------------------------------------------------


def test_slots_go_to_waiters_in_order_and_a_cancelled_wait_gives_its_slot_on() -> None:
    async def scenario() -> list[str]:
        slots, served = Slots(), []

        async def request(name: str) -> None:
            await slots.acquire(1)
            served.append(name)
            await asyncio.sleep(0.01)
            slots.release(1)

        first = asyncio.create_task(request("first"))
        await asyncio.sleep(0)
        cancelled = asyncio.create_task(request("cancelled"))
        last = asyncio.create_task(request("last"))
        await asyncio.sleep(0)
        cancelled.cancel()
        await asyncio.gather(first, last, return_exceptions=True)
        assert slots.idle
        return served

    assert asyncio.run(scenario()) == ["first", "last"]
