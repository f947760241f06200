"""OData 4 calls exactly as Creatio's documentation writes them, in both URL layouts: key-as-segment URLs
(seed 003's connector), property paths and raw values, and ``$metadata`` (CSDL XML)."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
import requests
from emulator_helpers import login

from airflow_provider_creatio.testing.emulator import EmulatorServer

API_TEST = "12d21632-8b20-45d9-942f-20fcbbf2957c"
API_ACCOUNT = "e6574af1-3e92-4099-958e-e798f52ee016"
EDMX = "{http://docs.oasis-open.org/odata/ns/edmx}"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


@pytest.fixture(params=["/0/odata", "/odata"], ids=["netfx", "netcore"])
def odata_root(request: pytest.FixtureRequest, creatio: EmulatorServer) -> str:
    """The OData root of each layout: .NET Framework ``/0/odata``, .NET Core ``/odata``."""
    creatio.settings.net_core = request.param == "/odata"
    return f"{creatio.url}{request.param}"


@pytest.fixture
def site(creatio: EmulatorServer, odata_root: str) -> Iterator[requests.Session]:
    session = login(creatio.url)
    yield session
    session.close()


# -- key-as-segment -----------------------------------------------------------------------------------------------


def test_get_patch_delete_by_key_as_segment(site: requests.Session, odata_root: str) -> None:
    new_id = str(uuid.uuid4())
    assert site.post(f"{odata_root}/Contact", json={"Id": new_id, "Name": "Segment"}).status_code == 201

    read = site.get(f"{odata_root}/Contact/{new_id}")
    patched = site.patch(f"{odata_root}/Contact/{new_id}", json={"JobTitle": "CTO"})
    after_patch = site.get(f"{odata_root}/Contact({new_id})").json()
    deleted = site.delete(f"{odata_root}/Contact/{new_id}")

    assert read.status_code == 200
    assert read.json()["Name"] == "Segment"
    assert read.json()["@odata.context"] == f"{odata_root}/$metadata#Contact/$entity"
    assert patched.status_code == 204
    assert after_patch["JobTitle"] == "CTO"
    assert deleted.status_code == 204
    assert site.get(f"{odata_root}/Contact/{new_id}").status_code == 404


@pytest.mark.parametrize("entity", ["Contact", "Case", "Account"])
def test_seed_003s_connector_reads_each_entity_by_key_segment(
    site: requests.Session, odata_root: str, entity: str
) -> None:
    listed = site.get(f"{odata_root}/{entity}?$top=1&$select=Id").json()["value"][0]["Id"]

    answer = site.get(f"{odata_root}/{entity}/{listed}?$select=Id")

    assert answer.status_code == 200
    assert answer.json()["Id"] == listed


def test_a_key_segment_that_is_not_a_guid_is_400(site: requests.Session, odata_root: str) -> None:
    answer = site.get(f"{odata_root}/Contact/not-a-guid")

    assert answer.status_code == 400
    assert "not a valid Guid" in answer.json()["error"]["message"]


def test_get_patch_delete_by_named_key(site: requests.Session, odata_root: str) -> None:
    """OData 4 also names the key property: ``Contact(Id=<id>)``."""
    new_id = str(uuid.uuid4())
    assert site.post(f"{odata_root}/Contact", json={"Id": new_id, "Name": "Named"}).status_code == 201

    read = site.get(f"{odata_root}/Contact(Id={new_id})?$select=Name")
    patched = site.patch(f"{odata_root}/Contact(Id={new_id})", json={"JobTitle": "CFO"})
    value = site.get(f"{odata_root}/Contact(Id={new_id})/JobTitle/$value")
    deleted = site.delete(f"{odata_root}/Contact(Id={new_id})")

    assert read.json()["Name"] == "Named"
    assert patched.status_code == 204
    assert value.text == "CFO"
    assert deleted.status_code == 204
    assert site.get(f"{odata_root}/Contact(Id={new_id})").status_code == 404


def test_a_batch_addresses_records_by_named_key(site: requests.Session, odata_root: str) -> None:
    requests_ = [
        {"method": "PATCH", "url": f"Contact(Id={API_TEST})", "id": "1", "body": {"JobTitle": "COO"}},
        {"method": "GET", "url": f"Contact(Id={API_TEST})?$select=JobTitle", "id": "2"},
    ]

    answer = site.post(f"{odata_root}/$batch", json={"requests": requests_})

    by_id = {response["id"]: response for response in answer.json()["responses"]}
    assert (by_id["1"]["status"], by_id["2"]["status"]) == (204, 200)
    assert by_id["2"]["body"]["JobTitle"] == "COO"


def test_a_key_named_after_another_property_is_400(site: requests.Session, odata_root: str) -> None:
    answer = site.get(f"{odata_root}/Contact(Name={API_TEST})")

    assert answer.status_code == 400
    assert "not a valid Guid" in answer.json()["error"]["message"]


# -- property paths and $value ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [f"({API_TEST})", f"/{API_TEST}"], ids=["parentheses", "segment"])
def test_a_property_path_answers_the_value(site: requests.Session, odata_root: str, key: str) -> None:
    answer = site.get(f"{odata_root}/Contact{key}/Name")

    assert answer.status_code == 200
    assert answer.json() == {
        "@odata.context": f"{odata_root}/$metadata#Contact({API_TEST})/Name",
        "value": "API Test",
    }


@pytest.mark.parametrize(
    ("column", "raw"),
    [("Name", "API Test"), ("Age", "19"), ("Confirmed", "true"), ("AccountId", API_ACCOUNT)],
)
def test_value_answers_the_raw_value_as_text(
    site: requests.Session, odata_root: str, column: str, raw: str
) -> None:
    answer = site.get(f"{odata_root}/Contact({API_TEST})/{column}/$value")

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert answer.text == raw


def test_a_lookups_navigation_property_answers_the_record_it_points_at(
    site: requests.Session, odata_root: str
) -> None:
    answer = site.get(f"{odata_root}/Contact({API_TEST})/Account?$select=Name")

    assert answer.status_code == 200
    assert answer.json()["Name"] == "API 1"


def test_an_empty_lookup_answers_204(site: requests.Session, odata_root: str) -> None:
    answer = site.get(f"{odata_root}/Contact({API_TEST})/Country")

    assert answer.status_code == 204
    assert answer.content == b""


def test_an_unknown_property_is_400_and_a_missing_record_404(site: requests.Session, odata_root: str) -> None:
    unknown = site.get(f"{odata_root}/Contact({API_TEST})/Emial")
    missing = site.get(f"{odata_root}/Contact({uuid.uuid4()})/Name/$value")

    assert unknown.status_code == 400
    assert unknown.json()["error"]["message"] == "Column by path Emial not found in schema Contact."
    assert missing.status_code == 404


def test_a_property_path_is_read_only(site: requests.Session, odata_root: str) -> None:
    assert site.patch(f"{odata_root}/Contact({API_TEST})/Name", json={"value": "x"}).status_code == 405


# -- $metadata --------------------------------------------------------------------------------------------------------


def metadata(site: requests.Session, odata_root: str) -> ET.Element:
    answer = site.get(f"{odata_root}/$metadata", headers={"Accept": "application/xml"})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/xml")
    return ET.fromstring(answer.content)


def entity_type(document: ET.Element, name: str) -> ET.Element:
    found = document.find(f"{EDMX}DataServices/{EDM}Schema/{EDM}EntityType[@Name='{name}']")
    assert found is not None
    return found


def test_metadata_is_an_odata_4_csdl_document(site: requests.Session, odata_root: str) -> None:
    document = metadata(site, odata_root)

    assert document.tag == f"{EDMX}Edmx"
    assert document.get("Version") == "4.0"
    schema = document.find(f"{EDMX}DataServices/{EDM}Schema")
    assert schema is not None
    assert schema.get("Namespace") == "Terrasoft.Configuration.OData"


def test_metadata_describes_contacts_columns_types_key_and_nullability(
    site: requests.Session, odata_root: str
) -> None:
    contact = entity_type(metadata(site, odata_root), "Contact")
    properties = {item.get("Name"): item for item in contact.findall(f"{EDM}Property")}

    assert [ref.get("Name") for ref in contact.findall(f"{EDM}Key/{EDM}PropertyRef")] == ["Id"]
    assert (properties["Id"].get("Type"), properties["Id"].get("Nullable")) == ("Edm.Guid", "false")
    assert properties["Name"].get("Type") == "Edm.String"
    assert properties["Age"].get("Type") == "Edm.Int32"
    assert properties["BirthDate"].get("Type") == "Edm.DateTimeOffset"
    assert properties["Confirmed"].get("Type") == "Edm.Boolean"
    assert properties["AccountId"].get("Type") == "Edm.Guid"
    assert properties["ContactPhoto"].get("Type") == "Edm.Stream"


def test_metadata_declares_lookups_as_navigation_properties(site: requests.Session, odata_root: str) -> None:
    case = entity_type(metadata(site, odata_root), "Case")
    navigation = {item.get("Name"): item for item in case.findall(f"{EDM}NavigationProperty")}

    status = navigation["Status"]
    constraint = status.find(f"{EDM}ReferentialConstraint")
    assert status.get("Type") == "Terrasoft.Configuration.OData.CaseStatus"
    assert constraint is not None
    assert (constraint.get("Property"), constraint.get("ReferencedProperty")) == ("StatusId", "Id")
    assert {"Account", "Contact", "Status", "CreatedBy", "ModifiedBy"} <= set(navigation)


def test_metadata_lists_an_entity_set_for_every_entity_of_the_service_document(
    site: requests.Session, odata_root: str
) -> None:
    container = metadata(site, odata_root).find(f"{EDMX}DataServices/{EDM}Schema/{EDM}EntityContainer")
    service = site.get(f"{odata_root}/").json()

    assert container is not None
    sets = {item.get("Name"): item.get("EntityType") for item in container.findall(f"{EDM}EntitySet")}
    assert set(sets) == {item["name"] for item in service["value"]}
    assert sets["Contact"] == "Terrasoft.Configuration.OData.Contact"
    assert service["@odata.context"] == f"{odata_root}/$metadata"


def test_a_lookup_to_an_entity_the_emulator_does_not_define_points_at_a_key_only_type(
    site: requests.Session, odata_root: str
) -> None:
    document = metadata(site, odata_root)

    language = entity_type(document, "SysLanguage")

    assert [item.get("Name") for item in language.findall(f"{EDM}Property")] == ["Id"]


def test_custom_entities_appear_in_metadata(creatio: EmulatorServer, odata_root: str) -> None:
    creatio.settings.custom_entities = {"UsrShipment": {"UsrWeight": "float", "UsrAccount": "lookup:Account"}}
    creatio.reset()
    site = login(creatio.url)

    shipment = entity_type(metadata(site, odata_root), "UsrShipment")

    properties = {item.get("Name"): item.get("Type") for item in shipment.findall(f"{EDM}Property")}
    assert properties["UsrWeight"] == "Edm.Decimal"
    assert properties["UsrAccountId"] == "Edm.Guid"
