"""Every hook operation against every injected fault: each cell completes or fails with its documented error.

Faults come from the emulator's seeded chaos plan (``EmulatorSettings.faults``); ``limit: 1`` with a rate of 1
faults exactly the first matching request, so a cell shows what one fault does to one operation. The expected
outcome of every cell is in MATRIX; docs/reliability-faults.md renders the same table (a test keeps them equal;
``.venv/bin/python tests/reliability/test_faults_matrix.py`` prints it).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio.client import errors
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.testing.connection import connection_json
from airflow_provider_creatio.testing.emulator import EmulatorServer
from airflow_provider_creatio.testing.emulator.process_routes import engine_for

FAST = {"backoff_initial": 0.001, "backoff_max": 0.005, "timeout": 1.0}
OK = "ok"
FAULTS = ("500", "502", "503", "504", "429", "drop_before", "drop_after", "truncate", "non_json", "slow")
SESSION_FAULTS = ("expire", "rotate_csrf")
SEED_CONTACT = "12d21632-8b20-45d9-942f-20fcbbf2957c"
DOCS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "reliability-faults.md"

Operation = Callable[[CreatioHook], Any]


def _create(hook: CreatioHook) -> Any:
    return hook.create_record("Contact", {"Name": "Matrix"}, record_id=str(uuid.uuid4()))


def _upsert(hook: CreatioHook) -> Any:
    return hook.upsert_record("Contact", str(uuid.uuid4()), {"Name": "Matrix upsert"})


def _bulk(hook: CreatioHook) -> Any:
    report = hook.bulk_records(
        "upsert", "Contact", [{"Id": str(uuid.uuid4()), "Name": f"B{i}"} for i in range(5)]
    )
    assert not report.tally().failed, report.tally().describe_failures()
    return report


OPERATIONS: dict[str, Operation] = {
    "get": lambda h: h.get_record("Contact", SEED_CONTACT),
    "query": lambda h: list(h.iter_records("Contact", page_size=2, max_records=100)),
    "count": lambda h: h.count_records("Contact"),
    "create": _create,
    "update": lambda h: h.update_record("Contact", SEED_CONTACT, {"JobTitle": "Matrix"}),
    "upsert": _upsert,
    "delete": lambda h: h.delete_record("Contact", str(uuid.uuid4()), missing_ok=True),
    "bulk_upsert": _bulk,
    "start_process": lambda h: h.start_process(
        "UsrFullNameProcess", {"UserName": "A", "UserSurname": "B"}, ["FullName"]
    ),
    "execute_process": lambda h: h.execute_process(
        "UsrFullNameProcess", {"UserName": "A", "UserSurname": "B"}
    ),
    "process_log": lambda h: h.get_process_log(
        h.start_process("UsrLongProcess", {"DurationSeconds": 0}).process_id
    ),
}

SAFE_READS = {
    "500": errors.CreatioServerError,
    "truncate": errors.CreatioResponseError,
    "non_json": errors.CreatioResponseError,
}
UNSAFE = {
    "500": errors.CreatioServerError,
    "502": errors.CreatioOutcomeUnknownError,  # a gateway may have lost the answer of a started process
    "504": errors.CreatioOutcomeUnknownError,
    "drop_before": errors.CreatioOutcomeUnknownError,  # the client cannot tell a drop before from one after
    "drop_after": errors.CreatioOutcomeUnknownError,
    "slow": errors.CreatioOutcomeUnknownError,  # read timeout
    "truncate": errors.CreatioResponseError,
    "non_json": errors.CreatioResponseError,
}
# Writes that answer 204 have no body to damage; a 201 create does.
NO_BODY = {"500": errors.CreatioServerError}
MATRIX: dict[str, dict[str, Any]] = {
    "get": SAFE_READS,
    "query": SAFE_READS,
    "count": SAFE_READS,
    "create": SAFE_READS,
    "update": NO_BODY,
    "upsert": NO_BODY,
    "delete": NO_BODY,
    "bulk_upsert": SAFE_READS,
    "start_process": UNSAFE,
    "execute_process": {**UNSAFE, "truncate": OK, "non_json": errors.CreatioResponseError},
    "process_log": UNSAFE,  # its first call starts a process: that start meets the fault
}


def expected(operation: str, fault: str) -> Any:
    return MATRIX[operation].get(fault, OK)


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer() as emulator:
        yield emulator


@pytest.fixture
def hook(server: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[CreatioHook]:
    server.settings.faults = {}
    server.settings.expiry_form = "401"
    server.reset()
    monkeypatch.setenv("AIRFLOW_CONN_CREATIO_DEFAULT", connection_json(server.url, **FAST))
    with CreatioHook() as created:
        created.get_conn().login()
        yield created


def chaos(fault: str) -> dict[str, Any]:
    if fault == "expire":
        return {"expire_every": 1, "limit": 1}
    if fault == "rotate_csrf":
        return {"rotate_csrf_every": 1}
    return {"seed": 1, "rates": {fault: 1.0}, "limit": 1, "retry_after": 0.001, "slow_seconds": 2.0}


@pytest.mark.parametrize("fault", FAULTS + SESSION_FAULTS)
@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_fault_matrix(server: EmulatorServer, hook: CreatioHook, operation: str, fault: str) -> None:
    server.settings.faults = chaos(fault)
    outcome = expected(operation, fault)
    if outcome == OK:
        OPERATIONS[operation](hook)
    else:
        with pytest.raises(outcome) as err:
            OPERATIONS[operation](hook)
        assert "Supervisor" not in str(err.value).replace("user Supervisor", "")
    injected = server.state.chaos.counts
    if fault in FAULTS:
        assert injected == {fault: 1}, f"the fault was not injected: {injected}"


@pytest.mark.parametrize(
    ("fault", "starts"),
    [
        ("drop_after", 1),  # handled, then the answer was lost
        ("502", 0),  # the gateway answered before Creatio saw it
        (
            "slow",
            None,
        ),  # read timeout: the server finishes (1) or abandons (0) the request after the client left
    ],
)
def test_a_process_launch_whose_answer_is_lost_is_never_started_twice(
    monkeypatch: pytest.MonkeyPatch, fault: str, starts: int | None
) -> None:
    # A server of its own: a dropped request of another test may be logged late on a shared one.
    with EmulatorServer() as server:
        monkeypatch.setenv("AIRFLOW_CONN_CREATIO_DEFAULT", connection_json(server.url, **FAST))
        server.settings.faults = chaos(fault) | {"methods": ["POST"]}
        with CreatioHook() as hook, pytest.raises(errors.CreatioOutcomeUnknownError):
            hook.start_process("UsrOrderTotalsProcess", {"Quantity": 1, "UnitPrice": 1}, ["Total"])
        server.settings.faults = {}
        check_started_once(server, starts)


def check_started_once(server: EmulatorServer, starts: int | None) -> None:
    engine = engine_for(server.state)

    def settled() -> bool:
        logged = server.count(method="POST", path_contains="RunProcess") >= 1
        return logged and (starts is not None or engine.start_count("UsrOrderTotalsProcess") >= 1)

    # A slow answer is still being handled after the client gave up: a bounded wait for the server to finish
    # (or abandon) it. This waits for a state; it asserts nothing about time.
    deadline = time.monotonic() + 5
    while not settled() and time.monotonic() < deadline:
        time.sleep(0.05)
    if starts is None:
        assert engine.start_count("UsrOrderTotalsProcess") <= 1
    else:
        assert engine.start_count("UsrOrderTotalsProcess") == starts
    assert server.count(method="POST", path_contains="RunProcess") == 1  # the client sent it once


def render_matrix() -> str:
    """MATRIX as the markdown table of docs/reliability-faults.md: ok, or the exception's name without its
    Creatio prefix and Error suffix."""
    faults = FAULTS + SESSION_FAULTS
    lines = [
        "| operation | " + " | ".join(fault.replace("_", " ") for fault in faults) + " |",
        "|---|" + "---|" * len(faults),
    ]
    for operation in OPERATIONS:
        cells = [_cell(expected(operation, fault)) for fault in faults]
        lines.append(f"| {operation} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(outcome: Any) -> str:
    return OK if outcome == OK else outcome.__name__.removeprefix("Creatio").removesuffix("Error")


def test_the_docs_show_exactly_this_matrix() -> None:
    assert render_matrix() in DOCS_PAGE.read_text(encoding="utf-8"), (
        f"{DOCS_PAGE.name} is out of date: regenerate the fault matrix with "
        "`.venv/bin/python tests/reliability/test_faults_matrix.py`"
    )


if __name__ == "__main__":
    print(render_matrix(), end="")
