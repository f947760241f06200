"""Third-party Creatio clients, replayed as raw HTTP exactly as each one sends its calls (the packages themselves are
not dependencies of the project): creatio-api-py 1.3.3 and sl-creatio-connector 0.1.7 from PyPI, and seed 003's
integration connector. docs/creatio-notes/third-party-clients.md lists what each sends and what the emulator
deliberately answers differently from what a client expects."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping

import pytest
import requests
from emulator_helpers import LOGIN

from airflow_provider_creatio.testing.emulator import EmulatorServer
from airflow_provider_creatio.testing.emulator.settings import ExpiryForm

API_TEST = "12d21632-8b20-45d9-942f-20fcbbf2957c"
API_ACCOUNT = "e6574af1-3e92-4099-958e-e798f52ee016"
CASE_ACCOUNT = "ff7e089f-1fe9-4ca9-bc30-2d76ad39d178"
CASE_CONTACT = "00b34750-2feb-4545-b233-153502326f3c"
EMAIL_TYPE = "ee1c85c3-cfcb-df11-9b2a-001d60e938c6"
CREDENTIALS = {"UserName": "Supervisor", "UserPassword": "Supervisor"}


VIRTUAL_DIRECTORY = "/7.15.1.1295_SalesEnterprise"  # seed 000's site


@pytest.fixture(
    params=[(False, ""), (True, ""), (False, VIRTUAL_DIRECTORY)], ids=["netfx", "netcore", "netfx-vdir"]
)
def layout(request: pytest.FixtureRequest, creatio: EmulatorServer) -> EmulatorServer:
    """The emulator in each site layout, and under a virtual directory (each client takes the site's URL with
    it). Every client below writes ``/0/odata``, which both layouts serve."""
    creatio.settings.net_core, creatio.settings.base_path = request.param
    return creatio


# -- creatio-api-py 1.3.3 (CreatioODataAPI): a requests.Session; base_url ends in "/" ---------------------------------

# Every call carries these; BPMCSRF is added once the session holds that cookie. No Content-Type of its own:
# requests writes one for json= (application/json) and for data= dicts (form-encoded).
CAPI_HEADERS = {"ForceUseSession": "true", "Accept": "application/json; odata=verbose"}


@pytest.fixture
def capi(layout: EmulatorServer) -> Iterator[requests.Session]:
    """``CreatioODataAPI.authenticate``: the login with the client's headers, then BPMCSRF from the cookie."""
    session = requests.Session()
    answer = session.post(f"{layout.url}/{LOGIN.lstrip('/')}", json=CREDENTIALS, headers=CAPI_HEADERS)
    assert answer.status_code == 200
    assert answer.json()["Exception"] is None  # the client's only check of the login answer
    session.headers.update({**CAPI_HEADERS, "BPMCSRF": session.cookies["BPMCSRF"]})
    yield session
    session.close()


def test_creatio_api_py_session_check_counts_accounts(capi: requests.Session, layout: EmulatorServer) -> None:
    answer = capi.get(f"{layout.url}/0/odata/Account/$count", params={})

    assert answer.status_code == 200
    assert answer.text == "2"
    assert answer.history == []  # the client takes a redirect as "the cached cookie has expired"


def test_creatio_api_py_session_check_sees_the_login_redirect_of_an_expired_session(
    capi: requests.Session, layout: EmulatorServer
) -> None:
    layout.settings.expiry_form = "302"
    layout.expire_sessions()

    answer = capi.get(f"{layout.url}/0/odata/Account/$count", params={})

    assert answer.history[0].status_code == 302
    assert answer.headers["content-type"].startswith("text/html")


def test_creatio_api_py_get_collection_data_with_every_option(
    capi: requests.Session, layout: EmulatorServer
) -> None:
    params: dict[str, str | int] = {
        "$count": "true",
        "$skip": 1,
        "$top": 2,
        "$select": "Id,Name",
        "$orderby": "Name desc",
    }

    answer = capi.get(f"{layout.url}/0/odata/Contact", params=params)

    assert "%24orderby=Name+desc" in str(answer.url)  # requests writes the space as "+"
    assert answer.status_code == 200
    assert answer.json()["@odata.count"] == 3
    assert [row["Name"] for row in answer.json()["value"]] == ["API Test", "Andrew Baker"]
    assert set(answer.json()["value"][0]) == {"Id", "Name"}


def test_creatio_api_py_get_collection_data_filter_and_expand(
    capi: requests.Session, layout: EmulatorServer
) -> None:
    filtered = capi.get(
        f"{layout.url}/0/odata/Contact", params={"$select": "Name", "$filter": "Account/Name eq 'API 1'"}
    )
    expanded = capi.get(f"{layout.url}/0/odata/Contact", params={"$select": "Name", "$expand": "Account"})

    assert filtered.json()["value"] == [{"Name": "API Test"}]
    by_name = {row["Name"]: row for row in expanded.json()["value"]}
    assert by_name["API Test"]["Account"]["Name"] == "API 1"
    assert by_name["Supervisor"]["Account"] is None


def test_creatio_api_py_get_collection_data_by_record_id_value_and_count(
    capi: requests.Session, layout: EmulatorServer
) -> None:
    record = capi.get(f"{layout.url}/0/odata/Contact({API_TEST})", params={})
    value = capi.get(f"{layout.url}/0/odata/Contact({API_TEST})/JobTitle/$value", params={})
    count = capi.get(f"{layout.url}/0/odata/Contact/$count", params={})

    assert record.json()["Email"] == "test@gmail"
    assert (value.status_code, value.text) == (200, "Marketing manager")
    assert value.headers["content-type"].startswith("text/plain")
    assert count.text == "3"


def test_creatio_api_py_add_and_delete_collection_data(
    capi: requests.Session, layout: EmulatorServer
) -> None:
    created = capi.post(f"{layout.url}/0/odata/Contact", json={"Name": "Third Party", "JobTitle": "Tester"})
    new_id = created.json()["Id"]  # upload_file reads the new record's Id this way

    deleted = capi.delete(f"{layout.url}/0/odata/Contact({new_id})")
    deleted_again = capi.delete(f"{layout.url}/0/odata/Contact({new_id})")

    assert created.status_code == 201
    assert created.json()["JobTitle"] == "Tester"
    assert deleted.status_code == 204
    assert deleted_again.status_code == 404
    assert layout.store.get("Contact", new_id) is None


def test_creatio_api_py_upload_file_and_download_file(capi: requests.Session, layout: EmulatorServer) -> None:
    """``upload_file``: the file record by JSON POST (with Size, TotalSize and TypeId, which Creatio manages
    itself), then the whole file in one UploadFile chunk, an unquoted file name in Content-Disposition;
    ``download_file``: FileService/Download, the name read from Content-Disposition."""
    data = b"%PDF-1.4 third party" * 100
    payload = {
        "Name": "offer.pdf",
        "ContactId": API_TEST,
        "Size": len(data),
        "TotalSize": len(data),
        "TypeId": "529bc2f8-0ee0-df11-971b-001d60e938c6",
    }
    created = capi.post(f"{layout.url}/0/odata/ContactFile", json=payload)
    file_id = created.json()["Id"]
    uploaded = capi.post(
        f"{layout.url}/0/rest/FileApiService/UploadFile",
        params={
            "fileId": file_id,
            "totalFileLength": len(data),
            "mimeType": "application/pdf",
            "fileName": "offer.pdf",
            "columnName": "Data",
            "entitySchemaName": "ContactFile",
            "parentColumnName": "Contact",
            "parentColumnValue": API_TEST,
        },
        headers={
            "Content-Type": "application/octet-stream",
            "Content-Disposition": "attachment; filename=offer.pdf",
            "Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}",
        },
        data=data,
    )
    downloaded = capi.get(f"{layout.url}/0/rest/FileService/Download/ContactFile/{file_id}")

    assert created.status_code == 201
    assert uploaded.status_code == 200 and uploaded.json()["success"] is True
    assert downloaded.status_code == 200 and downloaded.content == data
    assert downloaded.headers["Content-Disposition"] == 'attachment; filename="offer.pdf"'
    assert layout.store.get("ContactFile", file_id)["Size"] == len(data)


def test_creatio_api_py_modify_collection_data_sends_a_form_body_which_creatio_refuses(
    capi: requests.Session, layout: EmulatorServer
) -> None:
    """``modify_collection_data`` passes its dict as ``data=``, so requests form-encodes it. Creatio's OData 4
    reads JSON only and answers 415; the emulator does the same rather than accept what Creatio refuses."""
    answer = capi.patch(f"{layout.url}/0/odata/Contact({API_TEST})", data={"JobTitle": "Lead"})

    assert answer.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert answer.status_code == 415
    assert "x-www-form-urlencoded" in answer.json()["Message"]
    assert layout.store.get("Contact", API_TEST)["JobTitle"] == "Marketing manager"  # type: ignore[index]


def test_creatio_api_py_modify_collection_data_with_a_json_body(
    capi: requests.Session, layout: EmulatorServer
) -> None:
    answer = capi.patch(f"{layout.url}/0/odata/Contact({API_TEST})", json={"JobTitle": "Lead"})

    assert answer.status_code == 204
    assert layout.store.get("Contact", API_TEST)["JobTitle"] == "Lead"  # type: ignore[index]


def test_creatio_api_py_reads_metadata_without_an_accept_header(
    capi: requests.Session, layout: EmulatorServer
) -> None:
    answer = capi.get(f"{layout.url}/0/odata/$metadata", headers={"Accept": "*/*"})

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
    assert '<EntitySet Name="Contact"' in answer.text


# -- sl-creatio-connector 0.1.7 (Creatio): bare requests calls, cookies passed per call ------------------------------

SL_V4_HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "ForceUseSession": "true",
    "Accept": "application/json; charset=utf-8",
}


class SlCreatio:
    """The calls of ``sl_creatio_connector.creatio.Creatio`` for ``ODATA_version.v4`` (``/0/odata``) and ``v4core``
    (``/odata``): every call sends the same header set (BPMCSRF empty at login) and the login's cookie jar."""

    def __init__(self, site: str, service_path: str) -> None:
        login = requests.post(
            f"{site}{LOGIN}", headers={**SL_V4_HEADERS, "BPMCSRF": ""}, data=json.dumps(CREDENTIALS)
        )
        assert login.json()["Code"] == 0
        self.cookies = login.cookies
        self.headers = {**SL_V4_HEADERS, "BPMCSRF": login.cookies["BPMCSRF"]}
        self.odata = f"{site}{service_path}"

    def get(self, path: str) -> requests.Response:
        return requests.get(f"{self.odata}/{path}", headers=self.headers, cookies=self.cookies)

    def post(self, entity: str, data: Mapping[str, object]) -> requests.Response:
        return requests.post(
            f"{self.odata}/{entity}", headers=self.headers, data=json.dumps(data), cookies=self.cookies
        )

    def delete(self, path: str) -> requests.Response:
        return requests.delete(f"{self.odata}/{path}", headers=self.headers, cookies=self.cookies)


@pytest.fixture(
    params=[
        (False, "", "/0/odata"),
        (True, "", "/0/odata"),
        (True, "", "/odata"),
        (True, VIRTUAL_DIRECTORY, "/odata"),
    ],
    ids=["v4-netfx", "v4-netcore", "v4core", "v4core-vdir"],
)
def sl_creatio(request: pytest.FixtureRequest, creatio: EmulatorServer) -> SlCreatio:
    creatio.settings.net_core, creatio.settings.base_path, service_path = request.param
    return SlCreatio(creatio.url, service_path)


def test_sl_creatio_connector_login_with_an_empty_bpmcsrf_header(creatio: EmulatorServer) -> None:
    wrong = requests.post(
        f"{creatio.url}{LOGIN}",
        headers={**SL_V4_HEADERS, "BPMCSRF": ""},
        data=json.dumps({**CREDENTIALS, "UserPassword": "wrong"}),
    )

    assert SlCreatio(creatio.url, "/0/odata").cookies["BPMCSRF"]
    assert wrong.status_code == 200
    assert wrong.json()["Code"] == 1
    assert wrong.json()["Message"]  # the client raises it as its exception text


def test_sl_creatio_connector_create_get_and_delete_object(
    sl_creatio: SlCreatio, creatio: EmulatorServer
) -> None:
    created = sl_creatio.post("Contact", {"Name": "SL Test", "JobTitle": "QA"})
    new_id = created.json()["Id"]

    read = sl_creatio.get(f"Contact({new_id})")
    deleted = sl_creatio.delete(f"Contact({new_id})")
    deleted_again = sl_creatio.delete(f"Contact({new_id})")

    assert created.status_code == 201
    assert "error" not in created.json()  # the client's test for a failed create
    assert read.json()["Name"] == "SL Test"
    assert (deleted.status_code, deleted_again.status_code) == (204, 404)
    assert creatio.store.get("Contact", new_id) is None


def test_sl_creatio_connector_create_object_error_has_an_error_member(sl_creatio: SlCreatio) -> None:
    answer = sl_creatio.post("Contact", {"Nope": 1})

    assert answer.status_code == 400
    assert "Nope" in answer.json()["error"]["message"]


def test_sl_creatio_connector_get_object_collection_with_a_raw_query(sl_creatio: SlCreatio) -> None:
    everything = sl_creatio.get("Contact")
    top = sl_creatio.get("Contact?$top=1")
    filtered = sl_creatio.get("Contact?$filter=Name eq 'API Test'")

    assert len(everything.json()["value"]) == 3
    assert len(top.json()["value"]) == 1
    assert "%20eq%20" in str(filtered.url)  # requests escapes the spaces, and leaves "$" and "'" as they are
    assert [row["Id"] for row in filtered.json()["value"]] == [API_TEST]


def test_sl_creatio_connector_get_creatio_contact_id_by_communication(sl_creatio: SlCreatio) -> None:
    link = {"ContactId": API_TEST, "CommunicationTypeId": EMAIL_TYPE, "Number": "api.test@example.com"}
    assert sl_creatio.post("ContactCommunication", link).status_code == 201

    answer = sl_creatio.get(
        f"ContactCommunication?$filter=CommunicationType/Id eq {EMAIL_TYPE} and Number eq 'api.test@example.com'"
    )

    assert answer.status_code == 200
    assert [row["ContactId"] for row in answer.json()["value"]] == [API_TEST]


def test_sl_creatio_connector_a_plus_in_a_raw_filter_reads_as_a_space(sl_creatio: SlCreatio) -> None:
    """The client does not escape its query: a "+" in a phone number reaches the server as "+", which a query string
    means as a space (so Creatio, like the emulator, looks for " 1 213 ...")."""
    link = {"ContactId": API_TEST, "CommunicationTypeId": EMAIL_TYPE, "Number": "+1 213 566 34 22"}
    assert sl_creatio.post("ContactCommunication", link).status_code == 201

    raw = sl_creatio.get("ContactCommunication?$filter=Number eq '+1 213 566 34 22'")
    escaped = sl_creatio.get("ContactCommunication?$filter=Number eq '%2B1 213 566 34 22'")

    assert raw.json()["value"] == []
    assert len(escaped.json()["value"]) == 1


# -- seed 003's integration connector (WSO2 creatiocrm): cookie values copied into headers ---------------------------

SEED_CONTACT = {
    "Name": "API Test",
    "AccountId": API_ACCOUNT,
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
    "AccountId": CASE_ACCOUNT,
    "ContactId": CASE_CONTACT,
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
SEED_PAYLOADS = {"Contact": SEED_CONTACT, "Case": SEED_CASE, "Account": SEED_ACCOUNT}


class Seed003Connector:
    """``creatiocrm.init`` logs in; each operation then sends ``BPMCSRF``, ``Cookie`` (the auth response's cookies as
    one header) and ``Set-cookie: UserName=...`` as request headers, and on 401, 403, 301 or 302 logs in again and
    replays the call once. Redirects are not followed."""

    def __init__(self, site: str) -> None:
        self.site = site
        self.logins = 0
        self.headers: dict[str, str] = {}
        self.init()

    def init(self) -> None:
        answer = requests.post(
            f"{self.site}{LOGIN}", headers={"Content-Type": "application/json"}, data=json.dumps(CREDENTIALS)
        )
        assert answer.json()["Code"] == 0
        self.logins += 1
        cookies = answer.cookies
        self.headers = {
            "Content-Type": "application/json",
            "BPMCSRF": cookies["BPMCSRF"],
            "Cookie": "; ".join(f"{name}={value}" for name, value in cookies.items()),
            "Set-cookie": f"UserName={cookies['UserName']}",
        }

    def call(self, method: str, path: str, payload: dict[str, object] | None = None) -> requests.Response:
        answer = self._send(method, path, payload)
        if answer.status_code in (401, 403, 301, 302):
            self.init()
            answer = self._send(method, path, payload)
        return answer

    def _send(self, method: str, path: str, payload: dict[str, object] | None) -> requests.Response:
        body = None if payload is None else json.dumps(payload)
        return requests.request(
            method, f"{self.site}/0/odata/{path}", headers=self.headers, data=body, allow_redirects=False
        )


@pytest.fixture
def connector(layout: EmulatorServer) -> Seed003Connector:
    return Seed003Connector(layout.url)


@pytest.mark.parametrize("entity", ["Contact", "Case", "Account"])
def test_seed_003_connector_create_get_update_delete(
    connector: Seed003Connector, layout: EmulatorServer, entity: str
) -> None:
    payload = SEED_PAYLOADS[entity]
    created = connector.call("POST", entity, payload)
    new_id = created.json()["Id"]

    read = connector.call("GET", f"{entity}/{new_id}")
    updated = connector.call("PATCH", f"{entity}/{new_id}", {**payload, "Notes": "updated"})
    deleted = connector.call("DELETE", f"{entity}/{new_id}")
    read_after_delete = connector.call("GET", f"{entity}/{new_id}")

    assert created.status_code == 201
    assert created.json()["@odata.context"].endswith(f"/0/odata/$metadata#{entity}/$entity")
    assert read.status_code == 200
    assert {key: read.json()[key] for key in payload} == payload
    assert updated.status_code == 204
    assert deleted.status_code == 204
    assert read_after_delete.status_code == 404
    assert connector.logins == 1


def test_seed_003_connector_contact_create_answers_the_sample_response(connector: Seed003Connector) -> None:
    record = connector.call("POST", "Contact", SEED_CONTACT).json()

    assert (record["GivenName"], record["Surname"], record["MiddleName"]) == ("API", "Test", "")
    assert record["OwnerId"] == "410006e1-ca4e-4502-a9ec-e54d922d2c00"
    assert record["LanguageId"] == "6ebc31fa-ee6c-48e9-81bf-8003ac03b019"
    assert record["Confirmed"] is True
    assert record["ContactPhoto@odata.mediaEditLink"] == f"Contact({record['Id']})/ContactPhoto"


@pytest.mark.parametrize("entity", ["Contact", "Case", "Account"])
def test_seed_003_connector_get_and_delete_of_an_unknown_id_are_404(
    connector: Seed003Connector, entity: str
) -> None:
    unknown = uuid.uuid4()

    assert connector.call("GET", f"{entity}/{unknown}").status_code == 404
    assert connector.call("DELETE", f"{entity}/{unknown}").status_code == 404


def test_seed_003_connector_update_of_an_unknown_id_creates_it_as_its_page_says(
    connector: Seed003Connector, layout: EmulatorServer
) -> None:
    """The connector's page promises that an update of an unknown Id creates the record, the emulator's default
    (docs/creatio-notes/where-the-sources-are-silent.md); a site answering 404 instead creates nothing."""
    unknown, other = str(uuid.uuid4()), str(uuid.uuid4())

    created = connector.call("PATCH", f"Contact/{unknown}", SEED_CONTACT)
    layout.settings.patch_missing = "404"
    refused = connector.call("PATCH", f"Contact/{other}", SEED_CONTACT)

    assert created.status_code == 204
    assert layout.store.get("Contact", unknown)["Name"] == SEED_CONTACT["Name"]  # type: ignore[index]
    assert refused.status_code == 404
    assert layout.store.get("Contact", other) is None


@pytest.mark.parametrize("expiry_form", ["401", "302"])
def test_seed_003_connector_logs_in_again_once_when_the_session_is_gone(
    connector: Seed003Connector, layout: EmulatorServer, expiry_form: ExpiryForm
) -> None:
    layout.settings.expiry_form = expiry_form
    layout.expire_sessions()

    answer = connector.call("GET", f"Contact/{API_TEST}")

    assert answer.status_code == 200
    assert answer.json()["Name"] == "API Test"
    assert connector.logins == 2


def test_seed_003_connector_logs_in_again_once_on_a_rejected_bpmcsrf(
    connector: Seed003Connector, layout: EmulatorServer
) -> None:
    connector.headers["BPMCSRF"] = "stale"

    answer = connector.call("GET", f"Account/{API_ACCOUNT}")

    assert answer.status_code == 200
    assert answer.json()["Name"] == "API 1"
    assert connector.logins == 2
