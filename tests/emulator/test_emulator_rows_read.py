"""The emulator's cost model: rows read per request, as a SQL database would read them (``rows_read`` in the log)."""

from __future__ import annotations

import pytest
import requests
from emulator_helpers import login

from airflow_provider_creatio.testing.emulator import EmulatorServer, EmulatorSettings
from airflow_provider_creatio.testing.emulator.values import sql_server_guid_key

ACCOUNTS = 300


def _seed(creatio: EmulatorServer) -> list[dict[str, str]]:
    """300 accounts, ModifiedOn in ten groups of 30 equal values, returned in (ModifiedOn, Id) order."""
    for number in range(ACCOUNTS):
        stamp = f"2026-01-01T00:00:{number // 30:02d}Z"
        creatio.store.insert("Account", {"Name": f"Account {number}", "ModifiedOn": stamp})
    rows = [row for row in creatio.store.rows("Account") if row["ModifiedOn"].startswith("2026-01-01")]
    return sorted(rows, key=lambda row: (row["ModifiedOn"], sql_server_guid_key(row["Id"])))


def _read(creatio: EmulatorServer, api: requests.Session, odata: str, **params: str) -> tuple[list[str], int]:
    """The Ids answered and the rows the request read."""
    answer = api.get(f"{odata}/Account", params={"$select": "Id", **params})
    assert answer.status_code == 200, answer.text
    return [row["Id"] for row in answer.json()["value"]], creatio.requests[-1].rows_read


def test_skip_reads_skip_plus_top(creatio: EmulatorServer, api: requests.Session, odata: str) -> None:
    _seed(creatio)

    _ids, read = _read(creatio, api, odata, **{"$orderby": "Id", "$top": "50", "$skip": "200"})

    assert read == 250


def test_an_id_range_reads_its_page_only(creatio: EmulatorServer, api: requests.Session, odata: str) -> None:
    _seed(creatio)
    ordered = sorted((row["Id"] for row in creatio.store.rows("Account")), key=sql_server_guid_key)

    ids, read = _read(
        creatio, api, odata, **{"$orderby": "Id", "$top": "50", "$filter": f"Id gt {ordered[199]}"}
    )

    assert (ids, read) == (ordered[200:250], 50)


def test_a_modifiedon_keyset_reads_its_page_and_ties_resume_after_the_id(
    creatio: EmulatorServer, api: requests.Session, odata: str
) -> None:
    rows = _seed(creatio)
    last = rows[44]  # the middle of the second group of equal ModifiedOn values
    keyset = f"((ModifiedOn gt {last['ModifiedOn']}) or (ModifiedOn eq {last['ModifiedOn']} and Id gt {last['Id']}))"

    ids, read = _read(
        creatio,
        api,
        odata,
        **{
            "$orderby": "ModifiedOn,Id",
            "$top": "40",
            "$filter": f"ModifiedOn ge 2026-01-01T00:00:00Z and {keyset}",
        },
    )

    assert (ids, read) == ([row["Id"] for row in rows[45:85]], 40)


def test_an_upper_bound_ends_the_range(creatio: EmulatorServer, api: requests.Session, odata: str) -> None:
    rows = _seed(creatio)
    window = "ModifiedOn ge 2026-01-01T00:00:01Z and ModifiedOn lt 2026-01-01T00:00:03Z"

    ids, read = _read(creatio, api, odata, **{"$orderby": "ModifiedOn,Id", "$top": "1000", "$filter": window})

    assert (ids, read) == ([row["Id"] for row in rows[30:90]], 60)


def test_a_filter_without_a_range_scans_the_table(
    creatio: EmulatorServer, api: requests.Session, odata: str
) -> None:
    _seed(creatio)

    ids, read = _read(creatio, api, odata, **{"$filter": "Name eq 'Account 7'", "$top": "10"})

    assert (len(ids), read) == (1, creatio.store.count("Account"))
    assert requests.get(f"{creatio.url}/__emulator__/stats").json()["rows_read"] == read


def test_sql_server_orders_guids_by_their_last_bytes_first(
    creatio: EmulatorServer, api: requests.Session, odata: str
) -> None:
    low_tail = "ffffffff-ffff-4fff-bfff-000000000001"
    high_tail = "00000000-0000-4000-8000-ffffffffffff"
    for record_id in (high_tail, low_tail):
        creatio.store.insert("Account", {"Id": record_id, "Name": "Order"})

    ids, _cost = _read(creatio, api, odata, **{"$filter": "Name eq 'Order'", "$orderby": "Id"})
    after, _cost = _read(creatio, api, odata, **{"$filter": f"Name eq 'Order' and Id gt {low_tail}"})

    assert ids == [low_tail, high_tail]
    assert after == [high_tail]


def test_postgresql_orders_guids_as_their_text(shared_emulator: EmulatorServer, odata: str) -> None:
    shared_emulator.settings = EmulatorSettings(database="postgresql")
    shared_emulator.reset()
    ids = ["00000000-0000-4000-8000-ffffffffffff", "ffffffff-ffff-4fff-bfff-000000000001"]
    for record_id in reversed(ids):
        shared_emulator.store.insert("Account", {"Id": record_id, "Name": "Order"})
    api = login(shared_emulator.url)

    answer = api.get(
        f"{odata}/Account", params={"$filter": "Name eq 'Order'", "$orderby": "Id", "$select": "Id"}
    )

    assert [row["Id"] for row in answer.json()["value"]] == ids


@pytest.mark.parametrize("operator", ["gt", "ge", "lt", "le"])
def test_a_server_without_guid_ordering_refuses_to_order_compare_guids(
    shared_emulator: EmulatorServer, odata: str, operator: str
) -> None:
    shared_emulator.settings = EmulatorSettings(guid_ordering=False)
    shared_emulator.reset()
    api = login(shared_emulator.url)

    refused = api.get(
        f"{odata}/Account", params={"$filter": f"Id {operator} 00000000-0000-4000-8000-000000000001"}
    )
    equal = api.get(f"{odata}/Account", params={"$filter": "Id eq 00000000-0000-4000-8000-000000000001"})

    assert refused.status_code == 400
    assert "incompatible types" in refused.json()["error"]["message"]
    assert equal.status_code == 200
