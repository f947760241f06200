"""Bulk writes through $batch against the emulator: batch counts, per-record outcomes, failures, races, retries."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from entity_lossy_proxy import LossyProxy

from airflow_provider_creatio._compat import AirflowException
from airflow_provider_creatio.client import bulk
from airflow_provider_creatio.client.errors import CreatioValidationError
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.operators.entity import CreatioBulkEntityOperator

pytestmark = pytest.mark.creatio_every_site

NAMESPACE = uuid.UUID("6f1c1a2e-8d3b-4c1e-9a55-0c1d2e3f4a5b")


def contact_id(number: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"contact-{number}"))


class FakeTI:
    """The one piece of the task context the bulk operator uses: pushing its report when it fails."""

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


@pytest.fixture
def hook(creatio_connection: Any) -> Iterator[CreatioHook]:
    with CreatioHook() as creatio:
        yield creatio


def batches(emulator: Any) -> int:
    return emulator.count("POST", "/$batch")


def test_bulk_upsert_of_1000_records_takes_one_lookup_and_10_write_batches_and_reports_each_record(
    creatio_connection: Any,
) -> None:
    emulator = creatio_connection
    for number in range(500):
        emulator.store.insert("Contact", {"Id": contact_id(number), "Name": f"Old {number}"})
    records: list[dict[str, Any]] = [
        {"Id": contact_id(number), "Name": f"New {number}", "Age": number % 90} for number in range(1000)
    ]
    for number in range(99, 1000, 100):  # ten records Creatio refuses: a number column given text
        records[number]["Age"] = "not a number"
    emulator.state.log.clear()

    result = CreatioBulkEntityOperator(
        task_id="bulk", entity="Contact", operation="upsert", records=records, allow_partial=True
    ).execute(context={"ti": FakeTI()})

    assert batches(emulator) == 11  # one existence lookup, then ten chunks of 100 writes
    assert result["batch_calls"] == 11
    # the lookup's GETs travel inside its $batch; the one GET is the column check's schema read (on for bulk)
    assert emulator.count("GET") == emulator.count("GET", "/$metadata") == 1
    assert result["actions"] == {"created": 495, "failed": 10, "updated": 495}
    assert (result["count"], result["succeeded"], result["failed"]) == (1000, 990, 10)
    failed = [item for item in result["results"] if not item["ok"]]
    assert [item["index"] for item in failed] == list(range(99, 1000, 100))
    assert all(item["status"] == 400 and "Age" in item["error"] for item in failed)
    assert emulator.store.get("Contact", contact_id(0))["Name"] == "New 0"
    assert emulator.store.get("Contact", contact_id(999)) is None  # refused: never created
    assert emulator.store.get("Contact", contact_id(998))["Name"] == "New 998"
    assert emulator.store.get("Contact", contact_id(99))["Name"] == "Old 99"  # refused: unchanged


def test_a_failed_record_fails_the_task_with_creatios_messages_unless_partial_is_allowed(
    creatio_connection: Any,
) -> None:
    records = [{"Name": "Good"}, {"Name": "Bad", "UsrNoSuchColumn": 1}, {"Name": "Also good"}]
    ti = FakeTI()
    operator = CreatioBulkEntityOperator(  # Creatio's own refusal, record by record: no column check first
        task_id="b", entity="Account", operation="create", records=records, check_columns=False
    )
    with pytest.raises(AirflowException) as caught:
        operator.execute(context={"ti": ti})
    text = str(caught.value)
    assert "1 of 3 records failed" in text
    assert "record #1" in text and "Column by path UsrNoSuchColumn not found in schema Account." in text
    report = ti.pushed["bulk_report"]
    assert [item["action"] for item in report["results"]] == ["created", "failed", "created"]
    names = {row["Name"] for row in creatio_connection.store.rows("Account")}
    assert {"Good", "Also good"} <= names  # continue-on-error: the records after the failure were written


def test_without_continue_on_error_the_batch_stops_at_the_first_failure(creatio_connection: Any) -> None:
    records = [{"Name": "First"}, {"Name": "Bad", "Nope": 1}, {"Name": "Never sent"}]
    with CreatioHook() as hook:
        report = hook.bulk_records("create", "Account", records, continue_on_error=False)
    assert [o.action for o in report.outcomes] == ["created", "failed", "skipped"]
    assert "Never sent" not in {row["Name"] for row in creatio_connection.store.rows("Account")}


def test_upsert_without_continue_on_error_also_looks_up_once(
    hook: CreatioHook, creatio_connection: Any
) -> None:
    for number in range(0, 250, 2):
        creatio_connection.store.insert("Contact", {"Id": contact_id(number), "Name": "Old"})
    records = [{"Id": contact_id(number), "Name": f"New {number}"} for number in range(250)]
    report = hook.bulk_records("upsert", "Contact", records, continue_on_error=False)
    assert report.tally().actions == {"created": 125, "updated": 125}
    assert report.batch_calls == batches(creatio_connection) == 4  # the lookup, then 100 + 100 + 50 writes


@pytest.mark.parametrize("patch_missing", ["404", "create"])
def test_bulk_update_delete_and_missing_records(
    hook: CreatioHook, creatio_connection: Any, patch_missing: str
) -> None:
    creatio_connection.settings.patch_missing = patch_missing
    store = creatio_connection.store
    present = [store.insert("Case", {"Subject": f"Case {n}"})["Id"] for n in range(3)]
    missing = str(uuid.uuid4())
    updated = hook.bulk_records("update", "Case", [{"Id": i, "Notes": "bulk"} for i in [*present, missing]])
    if patch_missing == "404":
        assert [o.action for o in updated.outcomes] == ["updated", "updated", "updated", "failed"]
        assert updated.outcomes[3].status == 404
    else:  # a bare PATCH does what the site does: this one creates the record
        assert [o.action for o in updated.outcomes] == ["updated"] * 4
        assert store.get("Case", missing)["Notes"] == "bulk"
        store.delete("Case", missing)
    assert all(store.get("Case", i)["Notes"] == "bulk" for i in present)

    strict = hook.bulk_records("delete", "Case", [present[0], missing])
    assert [o.action for o in strict.outcomes] == ["deleted", "failed"]
    lenient = hook.bulk_records("delete", "Case", [{"Id": present[1]}, missing], missing_ok=True)
    assert [o.action for o in lenient.outcomes] == ["deleted", "absent"] and not lenient.tally().failed
    assert store.get("Case", present[2]) is not None and store.get("Case", present[1]) is None


def test_batches_hold_at_most_the_batch_size(hook: CreatioHook, creatio_connection: Any) -> None:
    report = hook.bulk_records("create", "Account", [{"Name": f"A{n}"} for n in range(25)], batch_size=10)
    assert (
        report.batch_calls == batches(creatio_connection) == 3
        and report.tally().count - report.tally().failed == 25
    )
    with pytest.raises(CreatioValidationError, match="between 1 and 100"):
        hook.bulk_records("create", "Account", [{"Name": "x"}], batch_size=101)


def test_invalid_records_are_reported_and_never_sent(hook: CreatioHook, creatio_connection: Any) -> None:
    report = hook.bulk_records(
        "upsert", "Account", [{"Name": "no id"}, {"Id": "not-a-guid", "Name": "x"}, "text"]
    )
    assert [o.action for o in report.outcomes] == ["failed", "failed", "failed"]
    assert "needs its Id" in (report.outcomes[0].error or "")
    assert "GUID" in (report.outcomes[1].error or "")
    assert batches(creatio_connection) == 0


class AfterLookup:
    """The real client, with one change to the data made right after the existence lookup: a deterministic
    stand-in for another writer acting between the lookup and the batch."""

    def __init__(self, client: Any, change: Any) -> None:
        self.client, self.change = client, change

    def execute(self, call: Any) -> Any:
        result = self.client.execute(call)
        if call.request.operation.startswith("existence lookup") and self.change is not None:
            self.change, change = None, self.change
            change()
        return result


@pytest.mark.parametrize("patch_missing", ["404", "create"])
def test_upsert_records_that_appear_or_vanish_after_the_lookup_are_sent_again_the_other_way(
    hook: CreatioHook, creatio_connection: Any, patch_missing: str
) -> None:
    # On a site that creates on PATCH, the PATCH of the vanished record creates it again (reported updated).
    creatio_connection.settings.patch_missing = patch_missing
    store = creatio_connection.store
    appears = str(uuid.uuid4())
    vanishes = store.insert("Account", {"Name": "soon gone"})["Id"]

    def other_writer() -> None:
        store.insert("Account", {"Id": appears, "Name": "created meanwhile"})
        store.delete("Account", vanishes)

    records = [{"Id": appears, "Name": "A"}, {"Id": vanishes, "Name": "V"}]
    report = bulk.bulk(AfterLookup(hook.client, other_writer), "upsert", "Account", records)
    assert [o.action for o in report.outcomes] == [
        "updated",
        "created" if patch_missing == "404" else "updated",
    ]
    assert report.batch_calls == batches(creatio_connection) == 3  # the lookup, the writes, the swapped ones
    assert store.get("Account", appears)["Name"] == "A"
    assert store.get("Account", vanishes)["Name"] == "V"


def test_a_bulk_create_whose_answer_is_lost_creates_each_record_once(
    creatio_connection: Any, connect_through: Any, odata_root: str
) -> None:
    emulator = creatio_connection
    with LossyProxy(emulator.url) as proxy:
        connect_through("creatio_lossy", proxy.url)
        proxy.lose_answer("POST", r"/\$batch$")
        with CreatioHook("creatio_lossy") as hook:
            report = hook.bulk_records("create", "Account", [{"Name": f"Once {n}"} for n in range(5)])
    assert proxy.lost == [f"POST {emulator.settings.base_path}{odata_root}/$batch"] and batches(emulator) == 2
    assert [o.action for o in report.outcomes] == ["existed"] * 5 and not report.tally().failed
    names = [row["Name"] for row in emulator.store.rows("Account") if row["Name"].startswith("Once ")]
    assert sorted(names) == [f"Once {n}" for n in range(5)]
