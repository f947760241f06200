"""Triggers in one event loop share one async client per connection: one login, one logout after the last one,
and a cancelled trigger gives its share back."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_creatio.client.aio import shared_clients
from airflow_provider_creatio.client.config import CreatioConfig
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.testing.emulator.seed import CASE_STATUS_IDS
from airflow_provider_creatio.triggers.entity import CreatioEntityTrigger
from airflow_provider_creatio.triggers.process import CreatioProcessTrigger

RESOLVED = CASE_STATUS_IDS["Resolved"]
LOGOUT = "AuthService.svc/Logout"


def case_trigger(case_id: str, **kwargs: Any) -> CreatioEntityTrigger:
    return CreatioEntityTrigger(
        creatio_conn_id="creatio_default",
        watch={"entity": "Case", "record_id": case_id, "top": 1},
        success_values={"Status/Id": RESOLVED},
        poll_interval=0.02,
        **kwargs,
    )


async def first_event(trigger: Any) -> dict[str, Any]:
    [event] = [event.payload async for event in trigger.run()]
    return event


async def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.01)


def default_config() -> CreatioConfig:
    with CreatioHook() as hook:
        return hook.config


def resolve_after_looks(emulator: Any, case_ids: list[str], looks: int) -> threading.Thread:
    """Resolve every case once the emulator has answered ``looks`` GETs of cases: the triggers saw them open."""

    def run() -> None:
        deadline = time.monotonic() + 20
        while emulator.count("GET", "/Case(") < looks and time.monotonic() < deadline:
            time.sleep(0.01)
        for case_id in case_ids:
            emulator.store.update("Case", case_id, {"StatusId": RESOLVED})

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_concurrent_triggers_on_one_connection_log_in_once_and_out_once_after_the_last(
    creatio_connection: Any,
) -> None:
    emulator = creatio_connection
    case_ids = [emulator.store.insert("Case", {"Subject": f"Case {n}"})["Id"] for n in range(20)]
    agent = resolve_after_looks(emulator, case_ids, looks=2 * len(case_ids))

    async def main() -> list[dict[str, Any]]:
        return await asyncio.gather(*(first_event(case_trigger(case_id)) for case_id in case_ids))

    events = asyncio.run(main())
    agent.join(25)
    assert [event["status"] for event in events] == ["success"] * len(case_ids)
    assert emulator.login_count == 1
    assert emulator.count("POST", LOGOUT) == 1


async def test_a_cancelled_trigger_gives_back_its_share(creatio_connection: Any) -> None:
    emulator = creatio_connection
    config = default_config()
    case_ids = [emulator.store.insert("Case", {"Subject": f"Open {n}"})["Id"] for n in range(2)]
    first, second = (asyncio.create_task(first_event(case_trigger(case_id))) for case_id in case_ids)
    await until(lambda: emulator.count("GET", "/Case(") >= 2)
    assert shared_clients.users(config) == 2

    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    assert shared_clients.users(config) == 1 and emulator.count("POST", LOGOUT) == 0
    looks = emulator.count("GET", f"/Case({case_ids[1]})")
    await until(lambda: emulator.count("GET", f"/Case({case_ids[1]})") > looks)  # the other one polls on

    second.cancel()
    await asyncio.gather(second, return_exceptions=True)
    assert shared_clients.users(config) == 0
    assert emulator.count("POST", LOGOUT) == 1 and emulator.login_count == 1


async def test_triggers_with_different_settings_do_not_share(creatio_connection: Any) -> None:
    emulator = creatio_connection
    case_id = emulator.store.insert("Case", {"Subject": "Done", "StatusId": RESOLVED})["Id"]
    events = await asyncio.gather(
        first_event(case_trigger(case_id)), first_event(case_trigger(case_id, hook_params={"timeout": 30}))
    )
    assert [event["status"] for event in events] == ["success", "success"]
    assert emulator.login_count == 2 and emulator.count("POST", LOGOUT) == 2


async def test_process_triggers_share_the_client_too(creatio_connection: Any) -> None:
    emulator = creatio_connection
    with CreatioHook() as hook:
        runs = [
            hook.start_process("UsrFullNameProcess", {"UserName": "A", "UserSurname": str(n)})
            for n in range(5)
        ]
    logins = emulator.login_count
    triggers = [
        CreatioProcessTrigger(
            creatio_conn_id="creatio_default", process_id=str(run.process_id), poll_interval=0.02
        )
        for run in runs
    ]
    events = await asyncio.gather(*(first_event(trigger) for trigger in triggers))
    assert [event["status"] for event in events] == ["success"] * 5
    assert emulator.login_count - logins == 1


class CountingTransport:
    """httpx's transport, counting the requests on the wire at once."""

    def __init__(self) -> None:
        import httpx

        self.inner = httpx.AsyncHTTPTransport()
        self.busy = self.most = 0

    async def handle_async_request(self, request: Any) -> Any:
        self.busy += 1
        self.most = max(self.most, self.busy)
        try:
            response = await self.inner.handle_async_request(request)
            await response.aread()
            return response
        finally:
            self.busy -= 1

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_one_client_puts_at_most_max_connections_requests_on_the_wire(creatio_connection: Any) -> None:
    import httpx

    from airflow_provider_creatio.client import odata
    from airflow_provider_creatio.client.aio import MAX_CONNECTIONS, AsyncCreatioClient

    emulator = creatio_connection
    emulator.settings.faults = {"latency": 0.02}
    transport = CountingTransport()
    http = httpx.AsyncClient(transport=transport)  # type: ignore[arg-type]
    try:
        async with AsyncCreatioClient(default_config(), http_client=http) as client:
            call = odata.query_records("Contact", select=["Id"], top=1)
            await asyncio.gather(*(client.execute(call) for _ in range(3 * MAX_CONNECTIONS)))
    finally:
        emulator.settings.faults = {}
        await http.aclose()
    assert transport.most == MAX_CONNECTIONS  # the rest waited their turn
    assert emulator.count("GET", "/Contact") == 3 * MAX_CONNECTIONS and emulator.login_count == 1


@pytest.mark.parametrize("auth_type", ["forms", "oauth"])
def test_triggers_sharing_a_client_survive_a_masker_that_hands_the_loop_to_others(
    creatio_connection: Any, auth_type: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In Airflow 3.3's triggerer ``mask_secret`` is a round trip to the supervisor made through greenback: the
    event loop runs other triggers in the middle of the synchronous call. Here the masker does the same, so every
    secret registered (the connection's, each cookie or token) is a point where the other triggers enter."""
    import greenback

    from airflow_provider_creatio.hooks import creatio as hook_module
    from airflow_provider_creatio.testing.connection import connection_env_name, emulator_connection_json

    emulator = creatio_connection
    monkeypatch.setenv(connection_env_name("creatio_default"), emulator_connection_json(emulator, auth_type))
    masked: list[str] = []

    def yielding_mask_secret(value: str) -> None:
        greenback.await_(asyncio.sleep(0))  # other triggers run here, as in the triggerer
        masked.append(value)

    monkeypatch.setattr(hook_module, "mask_secret", yielding_mask_secret)
    monkeypatch.setattr(hook_module, "_registered_secrets", set())
    case_ids = [emulator.store.insert("Case", {"Subject": f"Case {n}"})["Id"] for n in range(20)]
    agent = resolve_after_looks(emulator, case_ids, looks=2 * len(case_ids))

    async def with_portal(trigger: Any) -> dict[str, Any]:
        await greenback.ensure_portal()
        return await first_event(trigger)

    async def main() -> list[dict[str, Any]]:
        return await asyncio.gather(*(with_portal(case_trigger(case_id)) for case_id in case_ids))

    events = asyncio.run(main())
    agent.join(25)
    assert [event["status"] for event in events] == ["success"] * len(case_ids)
    logins = emulator.token_request_count if auth_type == "oauth" else emulator.login_count
    assert logins == 1
    assert emulator.count("POST", LOGOUT) == (0 if auth_type == "oauth" else 1)
    assert len(masked) == len(set(masked)), "a secret was handed to the masker twice"
