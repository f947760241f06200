"""Schema discovery and column checks against the emulator's $metadata, against every site variant (both URL layouts)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio.client.errors import (
    CreatioBadRequestError,
    CreatioUnknownColumnError,
    CreatioUnknownEntityError,
)
from airflow_provider_creatio.client.schema import EntitySchema, Lookup, read_metadata
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.operators.entity import (
    CreatioBulkEntityOperator,
    CreatioCreateEntityOperator,
    CreatioGetEntityOperator,
    CreatioQueryEntitiesOperator,
    CreatioUpdateEntityOperator,
)

pytestmark = pytest.mark.creatio_every_site

FIXTURE = Path(__file__).parents[1] / "fixtures" / "metadata" / "creatio_odata4_metadata.xml"
SAVED = read_metadata([FIXTURE.read_bytes()])
API_TEST_CONTACT_ID = "12d21632-8b20-45d9-942f-20fcbbf2957c"


@pytest.fixture
def hook(creatio_connection: Any) -> Iterator[CreatioHook]:
    with CreatioHook() as creatio:
        yield creatio


def run(operator: Any) -> Any:
    return operator.execute(context={})


def common_shape(schema: EntitySchema, columns: set[str], lookups: set[str]) -> dict[str, Any]:
    """What both documents must agree on for the names they share: the key, each column's EDM type, each lookup's
    target and Id column, and the key's nullability (other columns' nullability is a site's own setting)."""
    by_name = {column.name: column for column in schema.columns}
    by_lookup = {lookup.name: lookup for lookup in schema.lookups}
    return {
        "key": schema.key,
        "key_nullable": [by_name[name].nullable for name in schema.key],
        "columns": {name: by_name[name].edm_type for name in sorted(columns)},
        "lookups": {name: (by_lookup[name].target, by_lookup[name].column) for name in sorted(lookups)},
    }


@pytest.mark.parametrize("entity", ["Contact", "Account", "Case"])
def test_the_emulator_and_a_saved_creatio_document_describe_an_entity_alike(
    hook: CreatioHook, entity: str
) -> None:
    served, saved = hook.get_entity_schema(entity), SAVED.entity(entity)
    columns = set(served.column_names) & set(saved.column_names)
    lookups = set(served.lookup_names) & set(saved.lookup_names)
    # the emulator defines fewer columns than a real site, but the comparison must not be vacuous
    assert {"Id", "CreatedOn", "ModifiedOn", "Name" if entity != "Case" else "Subject"} <= columns
    assert len(columns) >= {"Contact": 40, "Account": 10, "Case": 15}[entity]
    assert {"CreatedBy", "ModifiedBy", "Account" if entity != "Account" else "Owner"} <= lookups
    assert common_shape(served, columns, lookups) == common_shape(saved, columns, lookups)


def test_metadata_is_read_once_per_hook_however_many_entities_are_asked(
    hook: CreatioHook, creatio_connection: Any, odata_root: str
) -> None:
    assert {"Contact", "Account", "Case", "CaseStatus"} <= set(hook.list_entities())
    for entity in ("Contact", "Account", "Case", "Contact"):
        hook.get_entity_schema(entity)
    hook.check_columns("Case", data=["Subject"], filter={"Status/Id": "x"})
    reads = [r for r in creatio_connection.requests if r.path.endswith("/$metadata")]
    assert [(r.method, r.path, r.status) for r in reads] == [("GET", f"{odata_root}/$metadata", 200)]
    assert hook.get_entity_schema("Case").lookup("Status") == Lookup("Status", "CaseStatus", "StatusId")
    with CreatioHook() as another:
        another.list_entities()
    assert creatio_connection.count("GET", "/$metadata") == 2  # a new hook reads it again


def test_an_unknown_entity_names_the_closest_ones(hook: CreatioHook) -> None:
    with pytest.raises(CreatioUnknownEntityError, match=r"no entity 'Contcat'; did you mean 'Contact'"):
        hook.get_entity_schema("Contcat")


def writes(emulator: Any) -> list[str]:
    """The OData writes the emulator received (logins and logouts are no writes)."""
    return [
        f"{r.method} {r.path}"
        for r in emulator.requests
        if r.method in ("POST", "PATCH", "DELETE") and "/odata/" in r.path
    ]


def test_bulk_checks_columns_by_default_before_anything_is_written(creatio_connection: Any) -> None:
    before = creatio_connection.store.count("Contact")
    records = [{"Name": f"Bulk {n}"} for n in range(300)] + [{"Name": "Last", "Emial": "a@b.c"}]
    with pytest.raises(CreatioUnknownColumnError) as caught:
        run(CreatioBulkEntityOperator(task_id="bulk", entity="Contact", operation="create", records=records))
    assert str(caught.value) == "check data: Contact has no column 'Emial'; did you mean 'Email'?"
    assert writes(creatio_connection) == []  # not even the first of 4 batches
    assert creatio_connection.store.count("Contact") == before
    assert creatio_connection.count("GET", "/$metadata") == 1


def test_one_record_operators_leave_the_check_to_creatio_unless_asked(creatio_connection: Any) -> None:
    with pytest.raises(CreatioBadRequestError, match=r"Emial not found.*Did you mean 'Email'\?"):
        run(CreatioCreateEntityOperator(task_id="create", entity="Contact", data={"Emial": "a@b.c"}))
    assert len(writes(creatio_connection)) == 1  # Creatio was asked, and refused
    # Only its refusal made the client read the schema, for the suggestion.
    assert creatio_connection.count("GET", "/$metadata") == 1
    creatio_connection.reset()
    with pytest.raises(
        CreatioUnknownColumnError, match=r"Contact has no column 'Emial'; did you mean 'Email'\?"
    ):
        run(
            CreatioUpdateEntityOperator(
                task_id="update",
                entity="Contact",
                record_id=API_TEST_CONTACT_ID,
                data={"Emial": "a@b.c"},
                check_columns=True,
            )
        )
    assert writes(creatio_connection) == []


def test_checked_reads_refuse_unknown_select_expand_orderby_and_filter_before_querying(
    creatio_connection: Any,
) -> None:
    with pytest.raises(CreatioUnknownColumnError, match=r"check expand: Contact has no lookup 'Acount'"):
        run(
            CreatioGetEntityOperator(
                task_id="get",
                entity="Contact",
                record_id=API_TEST_CONTACT_ID,
                expand="Acount",
                check_columns=True,
            )
        )
    with pytest.raises(CreatioUnknownColumnError, match=r"check filter: Case has no column path 'StatusId'"):
        run(
            CreatioQueryEntitiesOperator(
                task_id="query",
                entity="Case",
                filter='{"StatusId": "x"}',
                orderby="Number",
                check_columns=True,
            )
        )
    assert [r.path for r in creatio_connection.requests if "/Contact" in r.path or "/Case" in r.path] == []
    found = run(
        CreatioQueryEntitiesOperator(
            task_id="query",
            entity="Contact",
            filter={"Account/Name": "API 1", "Email__contains": "@"},
            select=["Id", "Name", "AccountId"],
            expand="Account",
            orderby="Name desc",
            check_columns=True,
        )
    )
    assert [record["Name"] for record in found] == ["API Test"]
    assert found[0]["Account"]["Name"] == "API 1"
