"""The entity store, value coercion, the filter parser and settings, as pure Python."""

from __future__ import annotations

import threading
import uuid

import pytest

from airflow_provider_creatio.testing.emulator import EmulatorSettings
from airflow_provider_creatio.testing.emulator.odata_filter import (
    Call,
    Compare,
    FilterSyntaxError,
    Literal,
    Logical,
    Not,
    Path,
    parse_filter,
)
from airflow_provider_creatio.testing.emulator.seed import install_seed
from airflow_provider_creatio.testing.emulator.settings import SettingsError
from airflow_provider_creatio.testing.emulator.store import (
    BadValueError,
    Column,
    DuplicateIdError,
    EntityStore,
    RecordNotFoundError,
    SchemaError,
    UnknownColumnError,
    UnknownEntityError,
)
from airflow_provider_creatio.testing.emulator.values import datetime_ticks, normalize_datetime

ZERO = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def store() -> EntityStore:
    store = EntityStore()
    store.define_entity(
        "UsrThing",
        {
            "Name": Column("text"),
            "Size": Column("int"),
            "Price": Column("float"),
            "Active": Column("bool"),
            "Due": Column("datetime"),
            "External": Column("guid"),
            "Parent": Column("lookup", "UsrThing"),
        },
    )
    return store


def test_insert_fills_id_system_columns_and_type_defaults(store: EntityStore) -> None:
    row = store.insert("UsrThing", {"Name": "One"})

    assert uuid.UUID(row["Id"])
    assert row["CreatedOn"] == row["ModifiedOn"]
    assert row["CreatedById"] == row["ModifiedById"] == store.user_id
    assert {key: row[key] for key in ("Size", "Price", "Active", "Due", "External", "ParentId")} == {
        "Size": 0,
        "Price": 0.0,
        "Active": False,
        "Due": "0001-01-01T00:00:00Z",
        "External": ZERO,
        "ParentId": ZERO,
    }
    assert store.get("UsrThing", row["Id"]) == row
    assert store.get("UsrThing", row["Id"]) is not store.get("UsrThing", row["Id"])


def test_get_returns_copies(store: EntityStore) -> None:
    row = store.insert("UsrThing", {"Name": "One"})
    copy = store.get("UsrThing", row["Id"])
    assert copy is not None
    copy["Name"] = "Changed"

    assert store.get("UsrThing", row["Id"])["Name"] == "One"  # type: ignore[index]


def test_update_and_delete(store: EntityStore) -> None:
    row = store.insert("UsrThing", {"Name": "One", "Due": "2024-01-01T00:00:00Z"})

    updated = store.update("UsrThing", row["Id"].upper(), {"Size": 3, "Due": None})

    assert updated["Size"] == 3
    assert updated["Due"] is None
    assert updated["CreatedOn"] == row["CreatedOn"]
    assert store.delete("UsrThing", row["Id"]) is True
    assert store.delete("UsrThing", row["Id"]) is False
    with pytest.raises(RecordNotFoundError):
        store.update("UsrThing", row["Id"], {"Size": 4})


def test_typed_errors(store: EntityStore) -> None:
    row = store.insert("UsrThing", {"Name": "One"})

    with pytest.raises(UnknownEntityError):
        store.insert("UsrNothing", {})
    with pytest.raises(UnknownEntityError):
        store.rows("UsrNothing")
    with pytest.raises(UnknownColumnError, match=r"Column by path Colour not found in schema UsrThing\."):
        store.insert("UsrThing", {"Colour": "red"})
    with pytest.raises(UnknownColumnError):
        store.insert("UsrThing", {"Parent": row["Id"]})  # lookups are written flat: ParentId
    with pytest.raises(DuplicateIdError):
        store.insert("UsrThing", {"Id": row["Id"].upper()})
    with pytest.raises(BadValueError):
        store.update("UsrThing", row["Id"], {"Id": str(uuid.uuid4())})


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("Name", 5),
        ("Size", "five"),
        ("Size", 2.5),
        ("Size", True),
        ("Price", "cheap"),
        ("Active", "yes"),
        ("Due", "tomorrow"),
        ("Due", 20240101),
        ("External", "not-a-guid"),
        ("ParentId", 12),
    ],
)
def test_bad_values_are_refused(store: EntityStore, column: str, value: object) -> None:
    with pytest.raises(BadValueError):
        store.insert("UsrThing", {column: value})


@pytest.mark.parametrize(
    ("column", "value", "stored"),
    [
        ("Size", "42", 42),
        ("Size", 7.0, 7),
        ("Price", "0.1", 0.1),
        ("Price", 3, 3.0),
        ("Name", None, ""),
        ("ParentId", None, ZERO),
        ("External", "ABCDEF00-0000-0000-0000-000000000001", "abcdef00-0000-0000-0000-000000000001"),
        ("Due", "2024-03-01T10:00:00+01:00", "2024-03-01T09:00:00Z"),
        ("Due", "2024-03-01", "2024-03-01T00:00:00Z"),
        ("Due", "2022-04-07T09:37:58.567941432Z", "2022-04-07T09:37:58.5679414Z"),
    ],
)
def test_values_are_stored_in_wire_form(
    store: EntityStore, column: str, value: object, stored: object
) -> None:
    assert store.insert("UsrThing", {column: value})[column] == stored


def test_date_ticks_order_dates_whatever_their_fraction() -> None:
    earlier, later = normalize_datetime("2024-01-01T00:00:00Z"), normalize_datetime("2024-01-01T00:00:00.5Z")

    assert earlier > later  # as text "...00Z" sorts after "...00.5Z": ticks are what the emulator compares
    assert datetime_ticks(earlier) < datetime_ticks(later)
    assert datetime_ticks("0001-01-01T00:00:00Z") == 0


def test_definitions_are_checked() -> None:
    store = EntityStore()
    with pytest.raises(SchemaError):
        Column("lookup")
    with pytest.raises(SchemaError):
        Column("text", "Contact")
    with pytest.raises(SchemaError):
        Column("money")
    with pytest.raises(SchemaError):
        store.define_entity("UsrBad", {"StatusId": Column("lookup", "CaseStatus")})
    store.define_entity("UsrOnce", {})
    with pytest.raises(SchemaError):
        store.define_entity("UsrOnce", {})


def test_query_filters_sorts_and_pages_without_copying_everything(store: EntityStore) -> None:
    for size in (3, 1, 2, 5, 4):
        store.insert("UsrThing", {"Name": f"n{size}", "Size": size})

    result = store.query(
        "UsrThing", where=lambda row: row["Size"] > 1, order=[(lambda row: row["Size"], True)], skip=1, top=2
    )

    assert [row["Name"] for row in result.rows] == ["n4", "n3"]
    assert result.total == 4


def test_rows_is_a_snapshot(store: EntityStore) -> None:
    store.insert("UsrThing", {"Name": "One"})
    snapshot = store.rows("UsrThing")
    store.insert("UsrThing", {"Name": "Two"})

    assert [row["Name"] for row in snapshot] == ["One"]
    assert store.count("UsrThing") == 2


def test_concurrent_inserts_and_updates_from_threads_stay_consistent(store: EntityStore) -> None:
    counter = store.insert("UsrThing", {"Name": "counter"})

    def work(worker: int) -> None:
        for n in range(200):
            store.insert("UsrThing", {"Name": f"{worker}-{n}"})
            with store.lock:  # read-modify-write made atomic by holding the store's lock
                current = store.get("UsrThing", counter["Id"])
                assert current is not None
                store.update("UsrThing", counter["Id"], {"Size": current["Size"] + 1})

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert store.count("UsrThing") == 1 + 8 * 200
    assert store.get("UsrThing", counter["Id"])["Size"] == 8 * 200  # type: ignore[index]


def test_custom_entities_from_settings() -> None:
    settings = EmulatorSettings(
        custom_entities={"UsrInvoice": {"Amount": "float", "Account": "lookup:Account"}}
    )
    store = EntityStore()

    install_seed(store, settings)

    row = store.insert("UsrInvoice", {"Amount": 9.5, "AccountId": "e6574af1-3e92-4099-958e-e798f52ee016"})
    assert row["Amount"] == 9.5
    assert store.has_entity("Contact")
    assert store.get("Case", "5c3b9a1e-7f2d-4e8a-9b61-0d4c2e8f7a13")["Number"] == "SR00000040"  # type: ignore[index]


# -- the filter parser ----------------------------------------------------------------------------------------


def test_the_parser_builds_the_tree_with_precedence() -> None:
    tree = parse_filter(
        "not contains(Name,'a''b') or Age ge 3 and Account/Id eq 12D21632-8B20-45D9-942F-20FCBBF2957C"
    )

    assert tree == Logical(
        "or",
        Not(Call("contains", (Path(("Name",)), Literal("string", "a'b")))),
        Logical(
            "and",
            Compare("ge", Path(("Age",)), Literal("number", 3)),
            Compare("eq", Path(("Account", "Id")), Literal("guid", "12d21632-8b20-45d9-942f-20fcbbf2957c")),
        ),
    )


@pytest.mark.parametrize(
    ("text", "literal"),
    [
        ("null", Literal("null", None)),
        ("true", Literal("bool", True)),
        ("-1.5", Literal("number", -1.5)),
        ("2024-01-01T00:00:00Z", Literal("datetime", "2024-01-01T00:00:00Z")),
        ("2024-01-01T00:00:00.123+02:00", Literal("datetime", "2024-01-01T00:00:00.123+02:00")),
        ("''", Literal("string", "")),
    ],
)
def test_literals(text: str, literal: Literal) -> None:
    assert parse_filter(f"X eq {text}") == Compare("eq", Path(("X",)), literal)


@pytest.mark.parametrize(
    "text", ["", "   ", "Name eq 'x", "a eq b)", "eq 1", "Name eq 12d21632-8b20", "Name ~ 1"]
)
def test_syntax_errors(text: str) -> None:
    with pytest.raises(FilterSyntaxError, match=r"^Syntax error"):
        parse_filter(text)


# -- settings ---------------------------------------------------------------------------------------------------


def test_settings_hide_secrets_and_check_types() -> None:
    settings = EmulatorSettings(password="hunter2", oauth_client_secret="also-secret")

    assert "hunter2" not in repr(settings)
    assert "also-secret" not in repr(settings)
    with pytest.raises(SettingsError):
        EmulatorSettings(expiry_form="500")  # type: ignore[arg-type]
    with pytest.raises(SettingsError) as raised:
        settings.patch({"password": 123})
    assert "123" not in str(raised.value)
