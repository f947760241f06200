"""Keys as strict as a real Creatio database: a lookup that points nowhere, a delete of a record still referenced
and a duplicate Id are refused with the database's own 500 (SQL Server words on .NET Framework, PostgreSQL words
on .NET Core)."""

from __future__ import annotations

import uuid

import pytest
import requests
from emulator_helpers import login

from airflow_provider_creatio.testing.emulator import EmulatorServer

API_TEST = "12d21632-8b20-45d9-942f-20fcbbf2957c"
API_ACCOUNT = "e6574af1-3e92-4099-958e-e798f52ee016"
DB_EXCEPTION = "Terrasoft.Common.DbOperationException: "


@pytest.fixture(params=[False, True], ids=["netfx-sqlserver", "netcore-postgresql"])
def net_core(request: pytest.FixtureRequest, creatio: EmulatorServer) -> bool:
    creatio.settings.net_core = request.param
    return bool(request.param)


@pytest.fixture
def odata(creatio: EmulatorServer, net_core: bool) -> str:
    return f"{creatio.url}{'/odata' if net_core else '/0/odata'}"


@pytest.fixture
def site(creatio: EmulatorServer, net_core: bool) -> requests.Session:
    return login(creatio.url)


def message(answer: requests.Response) -> str:
    assert answer.status_code == 500
    text = answer.json()["error"]["message"]
    assert text.startswith(DB_EXCEPTION)
    return str(text[len(DB_EXCEPTION) :])


def test_a_create_whose_lookup_points_at_no_record_is_refused(
    site: requests.Session, odata: str, net_core: bool, creatio: EmulatorServer
) -> None:
    before = creatio.store.count("Contact")

    answer = site.post(f"{odata}/Contact", json={"Name": "Orphan", "AccountId": str(uuid.uuid4())})

    text = message(answer)
    if net_core:
        assert text.startswith(
            '23503: insert or update on table "Contact" violates foreign key constraint "FK'
        )
    else:
        assert text.startswith('The INSERT statement conflicted with the FOREIGN KEY constraint "FK')
        assert "table \"dbo.Account\", column 'Id'" in text
    assert creatio.store.count("Contact") == before


def test_an_update_whose_lookup_points_at_no_record_is_refused_and_changes_nothing(
    site: requests.Session, odata: str, net_core: bool
) -> None:
    answer = site.patch(
        f"{odata}/Contact({API_TEST})", json={"JobTitle": "x", "AccountId": str(uuid.uuid4())}
    )

    text = message(answer)
    assert ("23503" in text) if net_core else text.startswith("The UPDATE statement conflicted")
    record = site.get(f"{odata}/Contact({API_TEST})").json()
    assert (record["AccountId"], record["JobTitle"]) == (API_ACCOUNT, "Marketing manager")


def test_a_lookup_to_an_existing_record_an_empty_lookup_and_a_self_reference_are_accepted(
    site: requests.Session, odata: str
) -> None:
    new_id = str(uuid.uuid4())
    body = {"Id": new_id, "Name": "Fine", "AccountId": API_ACCOUNT, "OwnerId": new_id, "CountryId": None}

    assert site.post(f"{odata}/Contact", json=body).status_code == 201
    assert site.patch(f"{odata}/Contact({new_id})", json={"AccountId": None}).status_code == 204
    assert site.delete(f"{odata}/Contact({new_id})").status_code == 204


def test_a_lookup_to_an_entity_the_emulator_does_not_define_is_not_checked(
    site: requests.Session, odata: str
) -> None:
    answer = site.post(f"{odata}/Contact", json={"Name": "Any gender", "GenderId": str(uuid.uuid4())})

    assert answer.status_code == 201


def test_deleting_a_record_still_referenced_is_refused(
    site: requests.Session, odata: str, net_core: bool
) -> None:
    answer = site.delete(f"{odata}/Account({API_ACCOUNT})")

    text = message(answer)
    if net_core:
        assert text.startswith(
            '23503: update or delete on table "Account" violates foreign key constraint "FK'
        )
        assert text.endswith('on table "Contact"')
    else:
        assert text.startswith('The DELETE statement conflicted with the REFERENCE constraint "FK')
        assert "table \"dbo.Contact\", column 'AccountId'" in text
    assert site.get(f"{odata}/Account({API_ACCOUNT})").status_code == 200


def test_a_record_can_be_deleted_once_nothing_refers_to_it(site: requests.Session, odata: str) -> None:
    account = site.post(f"{odata}/Account", json={"Name": "Short-lived"}).json()["Id"]
    contact = site.post(f"{odata}/Contact", json={"Name": "Employee", "AccountId": account}).json()["Id"]

    assert site.delete(f"{odata}/Account({account})").status_code == 500
    assert site.delete(f"{odata}/Contact({contact})").status_code == 204
    assert site.delete(f"{odata}/Account({account})").status_code == 204


def test_a_duplicate_id_is_the_databases_500(site: requests.Session, odata: str, net_core: bool) -> None:
    text = message(site.post(f"{odata}/Contact", json={"Id": API_TEST, "Name": "Again"}))

    if net_core:
        assert text.startswith('23505: duplicate key value violates unique constraint "PK')
    else:
        assert text.startswith("Violation of PRIMARY KEY constraint 'PK")
        assert (
            f"Cannot insert duplicate key in object 'dbo.Contact'. The duplicate key value is ({API_TEST})."
            in text
        )


def test_moving_a_lookup_releases_the_record_it_pointed_at(site: requests.Session, odata: str) -> None:
    first = site.post(f"{odata}/Account", json={"Name": "First"}).json()["Id"]
    second = site.post(f"{odata}/Account", json={"Name": "Second"}).json()["Id"]
    contact = site.post(f"{odata}/Contact", json={"Name": "Mover", "AccountId": first}).json()["Id"]

    assert site.patch(f"{odata}/Contact/{contact}", json={"AccountId": second}).status_code == 204

    assert site.delete(f"{odata}/Account/{first}").status_code == 204
    assert site.delete(f"{odata}/Account/{second}").status_code == 500
