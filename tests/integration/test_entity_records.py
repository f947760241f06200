"""Single-record operations against the emulator: seed 003's payloads, idempotent create, upsert, delete, filters."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from entity_lossy_proxy import LossyProxy

from airflow_provider_creatio.client.errors import CreatioNotFoundError, CreatioValidationError
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.operators.entity import (
    CreatioCreateEntityOperator,
    CreatioDeleteEntityOperator,
    CreatioGetEntityOperator,
    CreatioQueryEntitiesOperator,
    CreatioUpdateEntityOperator,
    CreatioUpsertEntityOperator,
)

pytestmark = pytest.mark.creatio_every_site

SEED_CONTACT = {
    "Name": "API Test",
    "AccountId": "e6574af1-3e92-4099-958e-e798f52ee016",
    "JobTitle": "Marketing manager",
    "BirthDate": "0001-01-01T00:00:00Z",
    "Phone": "",
    "MobilePhone": "+1 213 566 34 22",
    "Email": "test@gmail",
    "Completeness": 30,
    "Age": 19,
}
SEED_CASE = {
    "Number": "SR00000040",
    "RegisteredOn": "2021-07-16T11:00:00Z",
    "Subject": "Consultation on functionality",
    "Symptoms": "Comparison of different DBMS in accordance with the customer's needs",
    "Notes": "",
    "AccountId": "ff7e089f-1fe9-4ca9-bc30-2d76ad39d178",
    "ContactId": "00b34750-2feb-4545-b233-153502326f3c",
    "SolutionRemains": 0.0,
}
SEED_ACCOUNT = {
    "Name": "API 1",
    "ProcessListeners": 0,
    "Phone": "+1 206 480 3801",
    "AdditionalPhone": "+1 206 480 4495",
    "Fax": "",
    "Web": "www.infocom-global.com",
    "Address": "48 Pilgrim Street",
    "Notes": "",
}
INJECTION = "x' or 1 eq 1 or Name eq 'y"


@pytest.fixture
def hook(creatio_connection: Any) -> Iterator[CreatioHook]:
    with CreatioHook() as creatio:
        yield creatio


def run(operator: Any) -> Any:
    """Execute an operator outside a DAG run (the entity operators read nothing from the context)."""
    return operator.execute(context={})


@pytest.mark.parametrize(
    ("entity", "sample"), [("Contact", SEED_CONTACT), ("Case", SEED_CASE), ("Account", SEED_ACCOUNT)]
)
def test_seed_003_operations_with_the_sample_payloads(
    creatio_connection: Any, entity: str, sample: dict[str, Any]
) -> None:
    store = creatio_connection.store
    before = store.count(entity)
    record_id = run(CreatioCreateEntityOperator(task_id="create", entity=entity, data=sample))
    stored = store.get(entity, record_id)
    assert stored is not None and {k: stored[k] for k in sample} == sample
    assert store.count(entity) == before + 1

    got = run(
        CreatioGetEntityOperator(task_id="get", entity=entity, record_id=record_id, select=["Id", *sample])
    )
    assert got == {"Id": record_id, **sample}

    changed = {**sample, "Notes": "updated by Airflow"}
    assert run(
        CreatioUpsertEntityOperator(task_id="upd", entity=entity, record_id=record_id, data=changed)
    ) == {
        "Id": record_id,
        "action": "updated",
        "api_calls": 2,  # the upsert's read of the Id, then its PATCH
    }
    assert store.get(entity, record_id)["Notes"] == "updated by Airflow"

    assert run(CreatioDeleteEntityOperator(task_id="del", entity=entity, record_id=record_id)) == {
        "Id": record_id,
        "deleted": True,
        "api_calls": 1,
    }
    assert store.get(entity, record_id) is None
    assert store.count(entity) == before


def test_create_returns_the_record_on_request_and_sends_its_own_id(creatio_connection: Any) -> None:
    chosen = str(uuid.uuid4())
    record = run(
        CreatioCreateEntityOperator(
            task_id="c", entity="Account", data=json.dumps(SEED_ACCOUNT), record_id=chosen, return_record=True
        )
    )
    assert record["Id"] == chosen and record["Name"] == "API 1" and "@odata.context" not in record
    assert creatio_connection.store.get("Account", chosen)["Web"] == "www.infocom-global.com"


def test_a_create_whose_answer_is_lost_is_retried_and_leaves_exactly_one_record(
    creatio_connection: Any, connect_through: Any, odata_root: str
) -> None:
    emulator = creatio_connection
    with LossyProxy(emulator.url) as proxy:
        connect_through("creatio_lossy", proxy.url)
        proxy.lose_answer("POST", r"/odata/Contact$")
        record_id = run(
            CreatioCreateEntityOperator(
                task_id="c",
                entity="Contact",
                data={**SEED_CONTACT, "Name": "Lost Answer"},
                creatio_conn_id="creatio_lossy",
            )
        )
    # The proxy sees the path as sent (in the site's virtual directory, if any); the emulator logs it below that.
    assert proxy.lost == [f"POST {emulator.settings.base_path}{odata_root}/Contact"]
    assert (
        emulator.count("POST", f"{odata_root}/Contact") == 2
    )  # the first try was carried out, then sent again
    matching = [row for row in emulator.store.rows("Contact") if row["Name"] == "Lost Answer"]
    assert [row["Id"] for row in matching] == [record_id]


@pytest.mark.parametrize("patch_missing", ["create", "404"])
def test_an_update_that_must_exist_never_creates_and_upsert_creates_on_every_site(
    hook: CreatioHook, creatio_connection: Any, patch_missing: str
) -> None:
    creatio_connection.settings.patch_missing = patch_missing
    new_id, other_id = str(uuid.uuid4()), str(uuid.uuid4())
    with pytest.raises(CreatioNotFoundError, match="404"):
        run(
            CreatioUpdateEntityOperator(
                task_id="u", entity="Account", record_id=new_id, data={"Name": "N"}, must_exist=True
            )
        )
    assert creatio_connection.store.get("Account", new_id) is None
    assert creatio_connection.count("PATCH") == 0
    assert run(
        CreatioUpsertEntityOperator(task_id="up", entity="Account", record_id=new_id, data={"Name": "N"})
    ) == {"Id": new_id, "action": "created", "api_calls": 2}
    assert creatio_connection.store.get("Account", new_id)["Name"] == "N"
    assert run(
        CreatioUpsertEntityOperator(task_id="up", entity="Account", record_id=new_id, data={"Name": "M"})
    ) == {"Id": new_id, "action": "updated", "api_calls": 2}
    assert creatio_connection.store.get("Account", new_id)["Name"] == "M"
    assert (
        run(
            CreatioUpdateEntityOperator(
                task_id="u", entity="Account", record_id=new_id, data={"Name": "O"}, must_exist=True
            )
        )
        == new_id
    )
    assert creatio_connection.store.get("Account", new_id)["Name"] == "O"
    # a bare update of a missing record does what the site does
    bare = CreatioUpdateEntityOperator(task_id="u", entity="Account", record_id=other_id, data={"Name": "P"})
    if patch_missing == "404":
        with pytest.raises(CreatioNotFoundError, match="404"):
            run(bare)
        assert creatio_connection.store.get("Account", other_id) is None
    else:
        assert run(bare) == other_id
        assert creatio_connection.store.get("Account", other_id)["Name"] == "P"


def test_upsert_that_loses_the_race_to_another_writer_patches_after_all(
    hook: CreatioHook, creatio_connection: Any
) -> None:
    emulator = creatio_connection
    record_id = str(uuid.uuid4())
    # The read finds no record; then, before our POST, another writer creates it: the POST conflicts.
    emulator.script(rf"/Account\({record_id}\)$", [404], method="GET")
    emulator.store.insert("Account", {"Id": record_id, "Name": "written by someone else"})
    assert hook.upsert_record("Account", record_id, {"Name": "ours"}).value == "updated"
    assert emulator.store.get("Account", record_id)["Name"] == "ours"
    assert emulator.count("POST", "/Account") == 1
    assert emulator.count("PATCH", "/Account(") == 1


def test_upsert_whose_patch_finds_no_record_after_the_read_creates_it_or_patches_it_again(
    hook: CreatioHook, creatio_connection: Any
) -> None:
    emulator = creatio_connection
    emulator.settings.patch_missing = "404"
    record_id = str(uuid.uuid4())
    emulator.store.insert("Account", {"Id": record_id, "Name": "there at the read"})
    # The PATCH answers 404 as if the record had been deleted; the create then finds it back (a conflict).
    emulator.script(rf"/Account\({record_id}\)$", [404], method="PATCH")
    assert hook.upsert_record("Account", record_id, {"Name": "ours"}).value == "updated"
    assert emulator.store.get("Account", record_id)["Name"] == "ours"
    assert (emulator.count("PATCH", "/Account("), emulator.count("POST", "/Account")) == (2, 1)


def test_get_of_a_missing_record_raises_not_found_with_creatios_words(hook: CreatioHook) -> None:
    missing = str(uuid.uuid4())
    with pytest.raises(CreatioNotFoundError) as caught:
        run(CreatioGetEntityOperator(task_id="g", entity="Contact", record_id=missing))
    assert missing in str(caught.value) and "404" in str(caught.value)


def test_delete_of_a_missing_record_fails_or_is_ignored(creatio_connection: Any) -> None:
    missing = str(uuid.uuid4())
    with pytest.raises(CreatioNotFoundError):
        run(CreatioDeleteEntityOperator(task_id="d", entity="Case", record_id=missing))
    ignored = run(CreatioDeleteEntityOperator(task_id="d", entity="Case", record_id=missing, missing_ok=True))
    assert ignored == {"Id": missing, "deleted": False, "api_calls": 1}


def test_a_filter_value_cannot_change_the_filter(creatio_connection: Any) -> None:
    store = creatio_connection.store
    assert store.count("Contact") > 1
    query = CreatioQueryEntitiesOperator(
        task_id="q", entity="Contact", filter={"Name": INJECTION}, select="Id,Name"
    )
    assert run(query) == []
    exact = store.insert("Contact", {"Name": INJECTION})
    assert run(query) == [{"Id": exact["Id"], "Name": INJECTION}]
    obrien = store.insert("Contact", {"Name": "O'Brien"})
    assert [
        r["Id"]
        for r in run(CreatioQueryEntitiesOperator(task_id="q2", entity="Contact", filter={"Name": "O'Brien"}))
    ] == [obrien["Id"]]


def test_dict_filters_format_guids_lookups_numbers_and_lists(creatio_connection: Any) -> None:
    store = creatio_connection.store
    account = store.insert("Account", {"Name": "Filter Co"})
    young = store.insert("Contact", {"Name": "Young", "Age": 17, "AccountId": account["Id"]})
    older = store.insert("Contact", {"Name": "Older", "Age": 40, "AccountId": account["Id"]})
    records = run(
        CreatioQueryEntitiesOperator(
            task_id="q",
            entity="Contact",
            filter={"Account/Id": account["Id"].upper(), "Age__ge": 18, "Name": ["Older", "Nobody"]},
            select=["Id", "Name", "Age"],
        )
    )
    assert records == [{"Id": older["Id"], "Name": "Older", "Age": 40}]
    assert young["Id"] not in {r["Id"] for r in records}


def test_arguments_are_checked_before_anything_is_sent(creatio_connection: Any) -> None:
    requests_before = creatio_connection.count()
    with pytest.raises(CreatioValidationError, match="GUID"):
        run(CreatioGetEntityOperator(task_id="g", entity="Contact", record_id="12345"))
    with pytest.raises(CreatioValidationError, match="object name"):
        run(CreatioCreateEntityOperator(task_id="c", entity="Contact(1)", data={"Name": "x"}))
    with pytest.raises(CreatioValidationError, match="not JSON"):
        run(
            CreatioUpdateEntityOperator(
                task_id="u", entity="Contact", record_id=str(uuid.uuid4()), data="Name=x"
            )
        )
    assert creatio_connection.count() == requests_before
