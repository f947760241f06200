"""The entity acceptance criteria, end to end inside ``dag.test`` against the emulator.

Each ``dag.test`` costs a few seconds, so the checks share few DAG runs: the seed 003 example DAG, one acceptance
DAG (lost answer, 25,000-record query, filter injection, 1,000-record bulk upsert, mapped reads) and one case
sensor DAG (poke and deferrable).
"""

from __future__ import annotations

import json
import uuid
import weakref
from pathlib import Path
from typing import Any

import pytest
from entity_lossy_proxy import LossyProxy

from airflow_provider_creatio.client import odata
from airflow_provider_creatio.testing.connection import connection_env_name, connection_json
from airflow_provider_creatio.testing.dagrun import DagRunResult, run_dag
from airflow_provider_creatio.testing.emulator.seed import CASE_STATUS_IDS
from airflow_provider_creatio.testing.example_site import CUSTOM_ENTITIES

DAG_FILES = Path(__file__).parent / "dag_files"
EXAMPLE_DAGS = Path(__file__).parents[2] / "example_dags"
NAMESPACE = uuid.UUID("6f1c1a2e-8d3b-4c1e-9a55-0c1d2e3f4a5b")
INJECTION = "x' or 1 eq 1 or Name eq 'y"


def contact_id(number: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"contact-{number}"))


@pytest.fixture
def dag_folder(airflow_db: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run DAG files from a folder: dag.test syncs the DAGs folder bundle, which Airflow takes from settings."""
    from airflow import settings

    def use(folder: Path) -> Path:
        monkeypatch.setattr(settings, "DAGS_FOLDER", str(folder))
        return folder

    return use


def assert_succeeded(result: DagRunResult) -> None:
    failed = {task: state for task, state in result.task_states.items() if state != "success"}
    assert result.succeeded and not failed, f"{result.dag_id}: {result.state}, tasks not successful: {failed}"


class LiveRecords:
    """Counts the OData records alive in the process (see tests/integration/test_entity_query.py)."""

    class Record(dict[str, Any]):
        __slots__ = ("__weakref__",)

    def __init__(self) -> None:
        self.alive = self.peak = 0

    def _freed(self) -> None:
        self.alive -= 1

    def make(self, document: dict[str, Any]) -> dict[str, Any]:
        record = self.Record((k, v) for k, v in document.items() if not k.startswith("@"))
        weakref.finalize(record, self._freed)
        self.alive += 1
        self.peak = max(self.peak, self.alive)
        return record


def test_every_seed_003_operation_in_the_example_dag(dag_folder: Any, creatio_connection: Any) -> None:
    emulator = creatio_connection
    counts = {entity: emulator.store.count(entity) for entity in ("Contact", "Case", "Account")}
    result = run_dag(dag_folder(EXAMPLE_DAGS), "example_creatio_entities")
    assert_succeeded(result)
    for prefix, entity in (("contact", "Contact"), ("case", "Case"), ("account", "Account")):
        record_id = result.xcoms[f"{prefix}Create"]
        assert result.xcoms[f"{prefix}Get"]["Id"] == record_id
        assert result.xcoms[f"{prefix}Update"] == {"Id": record_id, "action": "updated", "api_calls": 2}
        assert result.xcoms[f"{prefix}Delete"] == {"Id": record_id, "deleted": True, "api_calls": 1}
        assert emulator.count("POST", f"/0/odata/{entity}") == 1
        assert emulator.count("DELETE", f"/0/odata/{entity}({record_id})") == 1
    assert result.xcoms["contactGet"]["MobilePhone"] == "+1 213 566 34 22"
    assert result.xcoms["caseGet"]["Number"] == "SR00000040"
    assert result.xcoms["accountGet"]["Web"] == "www.infocom-global.com"
    assert {entity: emulator.store.count(entity) for entity in counts} == counts


def test_acceptance_dag(
    dag_folder: Any, creatio_connection: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    emulator = creatio_connection
    store = emulator.store
    with store.lock:
        for number in range(25_000):
            store.insert("Account", {"Name": f"Account {number:05d}", "Phone": f"+1 555 {number:05d}"})
        for number in range(500):
            store.insert("Contact", {"Id": contact_id(number), "Name": f"Before sync {number}"})
        trap = store.insert("Contact", {"Name": INJECTION})
    accounts = store.count("Account")
    live = LiveRecords()
    monkeypatch.setattr(odata, "record_from_json", live.make)

    with LossyProxy(emulator.url) as proxy:
        monkeypatch.setenv(
            connection_env_name("creatio_lossy"),
            connection_json(proxy.url, backoff_initial=0.01, backoff_max=0.05),
        )
        proxy.lose_answer("POST", r"/0/odata/Contact$")
        emulator.state.log.clear()
        result = run_dag(dag_folder(DAG_FILES), "test_entity_acceptance", run_conf={"out_dir": str(tmp_path)})
    assert_succeeded(result)

    # A create whose answer was lost is sent again and leaves exactly one record.
    assert proxy.lost == ["POST /0/odata/Contact"]
    lost = [row["Id"] for row in store.rows("Contact") if row["Name"] == "Lost Answer"]
    assert lost == [result.xcoms["create_after_lost_answer"]]

    # 25,000 records across pages, written as JSON Lines, never more than one page alive in the client.
    written = result.xcoms["read_all_accounts"]
    lines = Path(written["path"]).read_text(encoding="utf-8").splitlines()
    assert written["count"] == len(lines) == accounts
    assert len({json.loads(line)["Id"] for line in lines}) == accounts
    assert emulator.count("GET", "/0/odata/Account") == -(-accounts // 1000)
    assert (
        live.peak <= 1001
    )  # one page of 1,000, plus the record the writer still holds when the next page comes

    # A value can never change the filter: only the contact with that very name matches.
    assert result.xcoms["filter_injection"] == [{"Id": trap["Id"], "Name": INJECTION}]

    # 1,000 upserts in 11 $batch calls (one existence lookup, ten chunks of writes), with an outcome per record
    # and Creatio's message for each refusal.
    report = result.xcoms["bulk_upsert"]
    assert emulator.count("POST", "/$batch") == 11 == report["batch_calls"]
    assert report["actions"] == {"created": 495, "failed": 10, "updated": 495}
    failures = [item for item in report["results"] if not item["ok"]]
    assert [item["index"] for item in failures] == list(range(99, 1000, 100))
    assert all(item["status"] == 400 and "Age" in item["error"] for item in failures)
    assert store.get("Contact", contact_id(0))["Name"] == "Synced 0"
    assert store.get("Contact", contact_id(500))["Name"] == "Synced 500"

    # Dynamic task mapping over an upstream XCom.
    mapped = [result.xcoms[f"read_each[{index}]"] for index in range(3)]
    assert [record["Name"] for record in mapped] == ["Synced 500", "Synced 501", "Synced 502"]


def test_case_sensor_completes_when_another_task_resolves_the_case(
    dag_folder: Any, creatio_connection: Any
) -> None:
    emulator = creatio_connection
    result = run_dag(dag_folder(DAG_FILES), "test_entity_case_sensor")
    assert_succeeded(result)
    for sensor, case_task in (("wait_poke", "open_case_poke"), ("wait_deferred", "open_case_deferred")):
        case_id = result.xcoms[case_task]
        record = result.xcoms[sensor]
        assert record["Id"] == case_id and record["StatusId"] == CASE_STATUS_IDS["Resolved"]
        assert record["Notes"] == "Solved by the support agent"
        # It saw the case open first: at least one look before the agent's change, one after.
        assert emulator.count("GET", f"Case({case_id})") >= 2
    # Sessions: two creates, the agent's two threads, the poking sensor, the deferrable sensor's first check, and
    # the trigger's own async client (the trigger ran); each one logged out when it finished.
    assert emulator.login_count == 7
    assert emulator.count("POST", "AuthService.svc/Logout") == 7


def iso(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def seed_contacts_around(store: Any, start: Any, end: Any) -> list[dict[str, Any]]:
    """Two contacts changed inside ``[start, end)``, one just outside at each end, and a stale copy of one of
    the changed ones; returns the two changed contacts."""
    from datetime import timedelta

    changed = [
        store.insert(
            "Contact",
            {
                "Name": "  Ada   Lovelace ",
                "Email": " Ada@Example.COM ",
                "MobilePhone": "+1 (213) 566-34-22",
                "JobTitle": "Analyst ",
                "AccountId": "e6574af1-3e92-4099-958e-e798f52ee016",
                "ModifiedOn": iso(start),
            },
        ),
        store.insert(
            "Contact",
            {"Name": "Grace Hopper", "Phone": "555 0100", "ModifiedOn": iso(end - timedelta(seconds=1))},
        ),
    ]
    for moment in (start - timedelta(seconds=1), end):  # just outside the half-open interval
        store.insert("Contact", {"Name": "Unchanged", "ModifiedOn": iso(moment)})
    store.insert("UsrContactCopy", {"Id": changed[1]["Id"], "Name": "stale copy"})
    return changed


def assert_synced_exactly(
    emulator: Any, result: DagRunResult, changed: list[dict[str, Any]], window: Any
) -> None:
    """The run read the window ``[start, end)`` and nothing else, and upserted cleaned copies of ``changed``."""
    start, end = window
    query = next(r.query for r in emulator.requests if r.path.endswith("/Contact"))
    assert f"ModifiedOn%20ge%20{iso(start)}%20and%20ModifiedOn%20lt%20{iso(end)}" in query
    assert [contact["Id"] for contact in result.xcoms["changed_contacts"]] == [c["Id"] for c in changed]
    copies = {row["Id"]: row for row in emulator.store.rows("UsrContactCopy")}
    assert set(copies) == {contact["Id"] for contact in changed}
    ada = copies[changed[0]["Id"]]
    assert (ada["Name"], ada["Email"], ada["Phone"], ada["JobTitle"]) == (
        "Ada Lovelace",
        "ada@example.com",
        "+12135663422",
        "Analyst",
    )
    assert ada["AccountId"] == "e6574af1-3e92-4099-958e-e798f52ee016"
    assert (
        copies[changed[1]["Id"]]["Name"] == "Grace Hopper" and copies[changed[1]["Id"]]["Phone"] == "5550100"
    )
    report = result.xcoms["upsert_copies"]
    assert report["actions"] == {"created": 1, "updated": 1} and report["batch_calls"] == 2


@pytest.fixture
def contact_copy_site(creatio_connection: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The emulator with the sync's reporting object, UsrContactCopy."""
    emulator = creatio_connection
    monkeypatch.setattr(emulator.settings, "custom_entities", CUSTOM_ENTITIES)
    emulator.reset()
    return emulator


def test_contact_sync_copies_exactly_the_contacts_changed_in_the_interval(
    dag_folder: Any, contact_copy_site: Any
) -> None:
    from datetime import datetime, timezone

    from airflow_provider_creatio.testing.dagrun import load_dag

    folder = dag_folder(EXAMPLE_DAGS)
    logical_date = datetime(2024, 3, 10, 6, 30, tzinfo=timezone.utc)
    timetable = load_dag(folder, "example_creatio_contact_sync").timetable
    interval = timetable.infer_manual_data_interval(run_after=logical_date)
    changed = seed_contacts_around(contact_copy_site.store, interval.start, interval.end)

    result = run_dag(folder, "example_creatio_contact_sync", logical_date=logical_date)
    assert_succeeded(result)
    assert_synced_exactly(contact_copy_site, result, changed, (interval.start, interval.end))


def test_contact_sync_without_a_logical_date_reads_the_day_up_to_run_after(
    dag_folder: Any, contact_copy_site: Any
) -> None:
    """A run triggered from the REST API or the CLI has no logical date, hence no data interval: it reads the
    24 hours up to its run_after."""
    from datetime import datetime, timedelta, timezone

    run_after = datetime(2024, 3, 10, 6, 30, 15, tzinfo=timezone.utc)
    window = (run_after - timedelta(days=1), run_after)
    changed = seed_contacts_around(contact_copy_site.store, *window)

    result = run_dag(
        dag_folder(EXAMPLE_DAGS), "example_creatio_contact_sync", logical_date=None, run_after=run_after
    )
    assert_succeeded(result)
    assert_synced_exactly(contact_copy_site, result, changed, window)


def test_contact_load_copies_every_contact_through_files_and_reports_each_one(
    dag_folder: Any, contact_copy_site: Any, tmp_path: Path
) -> None:
    """The large-data variant of the sync: contacts to a JSON Lines file, reporting rows to CSV, the CSV upserted
    into UsrContactCopy; XCom carries only URIs and counts."""
    store = contact_copy_site.store
    for number in range(250):
        store.insert("Contact", {"Name": f"Loaded {number}", "Email": f"l{number}@example.com"})
    contacts = {row["Id"]: row for row in store.rows("Contact")}
    store.insert("UsrContactCopy", {"Id": next(iter(contacts)), "Name": "stale"})

    result = run_dag(
        dag_folder(EXAMPLE_DAGS), "example_creatio_contact_load", run_conf={"folder": str(tmp_path)}
    )

    assert_succeeded(result)
    copies = {row["Id"]: row for row in store.rows("UsrContactCopy")}
    assert copies.keys() == contacts.keys()
    assert all(
        (copy["Name"], copy["Email"], copy["Phone"], copy["SourceModifiedOn"])
        == (
            contacts[key]["Name"],
            contacts[key]["Email"],
            contacts[key]["MobilePhone"],
            contacts[key]["ModifiedOn"],
        )
        for key, copy in copies.items()
    )
    loaded = result.xcoms["load_copies"]
    assert loaded["actions"] == {"created": len(contacts) - 1, "updated": 1}
    (report,) = [item["report"] for item in loaded["files"]]
    run_folder = next((tmp_path / "contact-load").iterdir())
    assert report == f"file://{run_folder}/copies.csv.report.jsonl"
    lines = (run_folder / "copies.csv.report.jsonl").read_text().splitlines()
    assert len(lines) == len(contacts) and all(json.loads(line)["ok"] for line in lines)
    assert result.xcoms["export_contacts"]["count"] == len(contacts)


def test_case_lifecycle_example(dag_folder: Any, creatio_connection: Any) -> None:
    emulator = creatio_connection
    result = run_dag(
        dag_folder(EXAMPLE_DAGS), "example_creatio_case_lifecycle", run_conf={"agent_work_seconds": 1}
    )
    assert_succeeded(result)
    store = emulator.store
    case_id = result.xcoms["open_case"]
    case = store.get("Case", case_id)
    assert case["StatusId"] == CASE_STATUS_IDS["Resolved"]
    assert result.xcoms["wait_until_resolved"]["Id"] == case_id
    follow_up = result.xcoms["follow_up"]
    assert follow_up["FollowUpCreated"] is True
    activity = store.get("Activity", follow_up["ActivityId"])
    assert activity["CaseId"] == case_id and activity["Title"].startswith("Follow up on case")
    acknowledged = store.get("Activity", result.xcoms["acknowledge"])
    assert acknowledged["CaseId"] == case_id
    account = store.get("Account", case["AccountId"])
    assert account["Notes"] == result.xcoms["account_note"]["Notes"]
    assert follow_up["ActivityId"] in account["Notes"] and "resolved" in account["Notes"]
