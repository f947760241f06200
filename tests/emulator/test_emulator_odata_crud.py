"""OData 4 create/read/update/delete with seed 003's payloads: status codes, bodies and error shapes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import requests

from airflow_provider_creatio.testing.emulator import EmulatorServer

ZERO = "00000000-0000-0000-0000-000000000000"
SUPERVISOR = "410006e1-ca4e-4502-a9ec-e54d922d2c00"
CONTACT_PAYLOAD = {
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
CASE_PAYLOAD = {
    "Number": "SR00000040",
    "RegisteredOn": "2021-07-16T11:00:00Z",
    "Subject": "Consultation on functionality",
    "Symptoms": "Comparison of different DBMS in accordance with the customer's needs",
    "Notes": "",
    "AccountId": "ff7e089f-1fe9-4ca9-bc30-2d76ad39d178",
    "ContactId": "00b34750-2feb-4545-b233-153502326f3c",
    "SolutionRemains": 0.0,
}
ACCOUNT_PAYLOAD = {
    "Name": "API 1",
    "ProcessListeners": 0,
    "Phone": "+1 206 480 3801",
    "AdditionalPhone": "+1 206 480 4495",
    "Fax": "",
    "Web": "www.infocom-global.com",
    "Address": "48 Pilgrim Street",
    "Notes": "",
}
# Seed 003's sample response without Id, timestamps and @odata.context (which differ per record and host).
SEED_CONTACT_RESPONSE: dict[str, Any] = {
    "Name": "API Test",
    "OwnerId": SUPERVISOR,
    "CreatedById": SUPERVISOR,
    "ModifiedById": SUPERVISOR,
    "ProcessListeners": 0,
    "Dear": "",
    "SalutationTypeId": ZERO,
    "GenderId": ZERO,
    "AccountId": "e6574af1-3e92-4099-958e-e798f52ee016",
    "DecisionRoleId": ZERO,
    "TypeId": ZERO,
    "JobId": ZERO,
    "JobTitle": "Marketing manager",
    "DepartmentId": ZERO,
    "BirthDate": "0001-01-01T00:00:00Z",
    "Phone": "",
    "MobilePhone": "+1 213 566 34 22",
    "HomePhone": "",
    "Skype": "",
    "Email": "test@gmail",
    "AddressTypeId": ZERO,
    "Address": "",
    "CityId": ZERO,
    "RegionId": ZERO,
    "Zip": "",
    "CountryId": ZERO,
    "DoNotUseEmail": False,
    "DoNotUseCall": False,
    "DoNotUseFax": False,
    "DoNotUseSms": False,
    "DoNotUseMail": False,
    "Notes": "",
    "Facebook": "",
    "LinkedIn": "",
    "Twitter": "",
    "FacebookId": "",
    "LinkedInId": "",
    "TwitterId": "",
    "TwitterAFDAId": ZERO,
    "FacebookAFDAId": ZERO,
    "LinkedInAFDAId": ZERO,
    "PhotoId": ZERO,
    "GPSN": "",
    "GPSE": "",
    "Surname": "Test",
    "GivenName": "API",
    "MiddleName": "",
    "Confirmed": True,
    "IsNonActualEmail": False,
    "Completeness": 30,
    "LanguageId": "6ebc31fa-ee6c-48e9-81bf-8003ac03b019",
    "Age": 19,
    "IsEmailConfirmed": False,
}
VOLATILE = {"@odata.context", "Id", "CreatedOn", "ModifiedOn"}


def stable_part(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key not in VOLATILE and "@odata." not in key}


def test_create_contact_answers_201_with_the_whole_record(odata: str, api: requests.Session) -> None:
    answer = api.post(f"{odata}/Contact", json=CONTACT_PAYLOAD)

    assert answer.status_code == 201
    record = answer.json()
    assert stable_part(record) == SEED_CONTACT_RESPONSE
    assert record["@odata.context"] == f"{odata}/$metadata#Contact/$entity"
    assert record["ContactPhoto@odata.mediaEditLink"] == f"Contact({record['Id']})/ContactPhoto"
    assert uuid.UUID(record["Id"])
    assert record["CreatedOn"].endswith("Z")
    assert answer.headers["Location"] == f"{odata}/Contact({record['Id']})"
    assert answer.headers["OData-Version"] == "4.0"


def test_the_seed_contact_is_seed_003s_sample_response(odata: str, api: requests.Session) -> None:
    answer = api.get(f"{odata}/Contact(12d21632-8b20-45d9-942f-20fcbbf2957c)")

    assert answer.status_code == 200
    record = answer.json()
    assert stable_part(record) == SEED_CONTACT_RESPONSE
    assert record["CreatedOn"] == "2022-04-07T09:37:58.5679414Z"


@pytest.mark.parametrize(
    ("entity", "payload"),
    [("Contact", CONTACT_PAYLOAD), ("Case", CASE_PAYLOAD), ("Account", ACCOUNT_PAYLOAD)],
)
def test_create_get_update_delete_round_trip(
    odata: str, api: requests.Session, entity: str, payload: dict[str, Any]
) -> None:
    created = api.post(f"{odata}/{entity}", json=payload).json()
    url = f"{odata}/{entity}({created['Id']})"
    assert {key: created[key] for key in payload} == payload

    read = api.get(url)
    assert read.status_code == 200
    assert read.json() == created

    changed = api.patch(url, json={"Notes": "updated"})
    assert changed.status_code == 204
    assert changed.content == b""
    after = api.get(url).json()
    assert after["Notes"] == "updated"
    assert after["ModifiedOn"] >= created["ModifiedOn"]
    assert after["CreatedOn"] == created["CreatedOn"]

    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    assert api.delete(url).status_code == 404


def test_a_new_case_has_status_new(odata: str, api: requests.Session) -> None:
    case = api.post(f"{odata}/Case", json=CASE_PAYLOAD).json()

    assert case["StatusId"] == "ae5f2f10-f46b-1410-fd9a-0050ba5d6c38"


def test_client_chosen_id_is_kept_and_a_duplicate_is_the_databases_500(
    odata: str, api: requests.Session
) -> None:
    chosen = str(uuid.uuid4())

    first = api.post(f"{odata}/Contact", json={"Id": chosen, "Name": "Once"})
    second = api.post(f"{odata}/Contact", json={"Id": chosen.upper(), "Name": "Twice"})

    assert first.status_code == 201
    assert first.json()["Id"] == chosen
    assert second.status_code == 500
    message = second.json()["error"]["message"]
    assert message.startswith(
        "Terrasoft.Common.DbOperationException: Violation of PRIMARY KEY constraint 'PK"
    )
    assert (
        f"Cannot insert duplicate key in object 'dbo.Contact'. The duplicate key value is ({chosen})."
        in message
    )
    assert api.get(f"{odata}/Contact({chosen})").json()["Name"] == "Once"


def test_guid_keys_ignore_case(odata: str, api: requests.Session) -> None:
    answer = api.get(f"{odata}/Contact(12D21632-8B20-45D9-942F-20FCBBF2957C)")

    assert answer.status_code == 200
    assert answer.json()["Id"] == "12d21632-8b20-45d9-942f-20fcbbf2957c"


def test_patch_of_a_missing_record_creates_it_with_that_id_as_seed_003_says(
    odata: str, api: requests.Session
) -> None:
    missing = str(uuid.uuid4())

    answer = api.patch(f"{odata}/Contact({missing})", json={"Name": "Ghost"})
    in_a_batch = api.post(
        f"{odata}/$batch",
        json={
            "requests": [{"id": "1", "method": "PATCH", "url": f"Account({missing})", "body": {"Name": "B"}}]
        },
    )

    assert answer.status_code == 204
    assert api.get(f"{odata}/Contact({missing})").json()["Name"] == "Ghost"
    assert in_a_batch.json()["responses"][0]["status"] == 204
    assert api.get(f"{odata}/Account({missing})").json()["Name"] == "B"


def test_patch_of_a_missing_record_is_404_and_creates_nothing_when_set_so(
    creatio: EmulatorServer, odata: str, api: requests.Session
) -> None:
    creatio.settings.patch_missing = "404"
    missing = str(uuid.uuid4())

    answer = api.patch(f"{odata}/Contact({missing})", json={"Name": "Ghost"})

    assert answer.status_code == 404
    assert "error" in answer.json()
    assert api.get(f"{odata}/Contact({missing})").status_code == 404


def test_lookups_are_written_flat(odata: str, api: requests.Session) -> None:
    closed = "3e7f420c-f46b-1410-fc9a-0050ba5d6c38"
    case = api.post(f"{odata}/Case", json=CASE_PAYLOAD).json()

    assert api.patch(f"{odata}/Case({case['Id']})", json={"StatusId": closed}).status_code == 204
    assert api.get(f"{odata}/Case({case['Id']})").json()["StatusId"] == closed
    assert api.patch(f"{odata}/Case({case['Id']})", json={"Status": closed}).status_code == 400


def test_numbers_may_arrive_as_strings(odata: str, api: requests.Session) -> None:
    case = api.post(f"{odata}/Case", json={**CASE_PAYLOAD, "SolutionRemains": "12.5"}).json()
    contact = api.post(f"{odata}/Contact", json={"Name": "Str", "Age": "42"}).json()

    assert case["SolutionRemains"] == 12.5
    assert contact["Age"] == 42


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"Name": "X", "Nickname": "y"}, "Column by path Nickname not found in schema Contact."),
        ({"Name": "X", "Age": "old"}, "Invalid value for column Age of schema Contact: expected a number."),
        (
            {"Name": "X", "AccountId": "not-a-guid"},
            "Invalid value for column AccountId of schema Contact: expected a GUID.",
        ),
        (
            {"Name": "X", "BirthDate": "yesterday"},
            "Invalid value for column BirthDate of schema Contact: expected an ISO 8601 date-time.",
        ),
    ],
)
def test_bad_write_bodies_are_400_in_the_odata_shape(
    odata: str, api: requests.Session, body: dict[str, Any], message: str
) -> None:
    answer = api.post(f"{odata}/Contact", json=body)

    assert answer.status_code == 400
    assert answer.json() == {"error": {"code": "", "message": message}}


def test_dates_are_stored_in_utc(odata: str, api: requests.Session) -> None:
    contact = api.post(
        f"{odata}/Contact", json={"Name": "Tz", "BirthDate": "2000-01-01T02:30:00.1200000+02:00"}
    )

    assert contact.json()["BirthDate"] == "2000-01-01T00:30:00.12Z"


def test_unknown_entity_is_the_routing_404(odata: str, api: requests.Session) -> None:
    answer = api.get(f"{odata}/Nothing")

    assert answer.status_code == 404
    assert answer.json() == {
        "Message": f"No HTTP resource was found that matches the request URI '{odata}/Nothing'.",
        "MessageDetail": "No type was found that matches the controller named 'Nothing'.",
    }


def test_a_key_that_is_not_a_guid_is_400(odata: str, api: requests.Session) -> None:
    answer = api.get(f"{odata}/Contact(42)")

    assert answer.status_code == 400
    assert "error" in answer.json()


def test_write_bodies_must_be_json(odata: str, api: requests.Session) -> None:
    text = api.post(f"{odata}/Contact", data="Name=X", headers={"Content-Type": "text/plain"})
    broken = api.post(f"{odata}/Contact", data="{not json")
    array = api.post(f"{odata}/Contact", json=[{"Name": "X"}])

    assert text.status_code == 415
    assert set(text.json()) == {"Message", "ExceptionType", "StackTrace"}
    assert broken.status_code == 400
    assert array.status_code == 400


def test_odata_annotations_in_a_body_are_ignored(odata: str, api: requests.Session) -> None:
    answer = api.post(f"{odata}/Contact", json={"@odata.context": "x", "Name": "Annotated"})

    assert answer.status_code == 201


def test_unsupported_methods_are_405(odata: str, api: requests.Session) -> None:
    put = api.put(f"{odata}/Contact(12d21632-8b20-45d9-942f-20fcbbf2957c)", json={"Name": "X"})
    delete_all = api.delete(f"{odata}/Contact")

    assert put.status_code == 405
    assert delete_all.status_code == 405


def test_the_service_document_lists_entity_sets(odata: str, api: requests.Session) -> None:
    answer = api.get(f"{odata}/")

    names = {item["name"] for item in answer.json()["value"]}
    assert {"Contact", "Account", "Case", "CaseStatus", "Activity"} <= names


def test_case_status_has_the_standard_ids(odata: str, api: requests.Session) -> None:
    rows = api.get(f"{odata}/CaseStatus", params={"$select": "Id,Name"}).json()["value"]

    assert {row["Name"]: row["Id"] for row in rows} == {
        "New": "ae5f2f10-f46b-1410-fd9a-0050ba5d6c38",
        "In progress": "7e9f1204-f46b-1410-fb9a-0050ba5d6c38",
        "Resolved": "ae7f411e-f46b-1410-009b-0050ba5d6c38",
        "Closed": "3e7f420c-f46b-1410-fc9a-0050ba5d6c38",
        "Canceled": "6e5f4218-f46b-1410-fe9a-0050ba5d6c38",
    }


def test_writes_from_python_are_visible_over_http(
    creatio: EmulatorServer, odata: str, api: requests.Session
) -> None:
    row = creatio.store.insert("Account", {"Name": "From Python"})

    assert api.get(f"{odata}/Account({row['Id']})").json()["Name"] == "From Python"
