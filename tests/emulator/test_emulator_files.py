"""Files on the wire: UploadFile chunks, FileService downloads, OData ``Data`` streams, the file objects, their
limits, and where the bytes live (docs/guides/emulator.md, "Files")."""

from __future__ import annotations

import hashlib
import time
import uuid
import xml.etree.ElementTree as ET
from typing import Any

import pytest
import requests
from emulator_helpers import login

from airflow_provider_creatio.testing.emulator import EmulatorServer
from airflow_provider_creatio.testing.emulator.__main__ import parse_args
from airflow_provider_creatio.testing.emulator.log import LoggedRequest, utc_day

CONTACT = "12d21632-8b20-45d9-942f-20fcbbf2957c"
OTHER_CONTACT = "00b34750-2feb-4545-b233-153502326f3c"
ACCOUNT = "e6574af1-3e92-4099-958e-e798f52ee016"
SEED_CASE = "5c3b9a1e-7f2d-4e8a-9b61-0d4c2e8f7a13"
UPLOAD = "FileApiService/UploadFile"
DOWNLOAD = "FileService/Download"
DATA = bytes(range(256)) * 10  # 2,560 bytes: three chunks of 1,000, 1,000 and 560
OCTET = {"Content-Type": "application/octet-stream"}


def new_id() -> str:
    return str(uuid.uuid4())


def send_chunk(
    api: requests.Session,
    url: str,
    file_id: str,
    data: bytes,
    start: int = 0,
    *,
    total: int | None = None,
    root: str = "/0/rest",
    content_range: str | None = None,
    **query: Any,
) -> dict[str, Any]:
    """One UploadFile chunk of a ContactFile of CONTACT (query overrides any parameter); its JSON answer."""
    total = len(data) if total is None else total
    params = {
        "fileId": file_id,
        "totalFileLength": str(total),
        "mimeType": "application/pdf",
        "fileName": "report.pdf",
        "columnName": "Data",
        "entitySchemaName": "ContactFile",
        "parentColumnName": "Contact",
        "parentColumnValue": CONTACT,
        **query,
    }
    header = content_range or f"bytes {start}-{start + len(data) - 1}/{total}"
    headers = {"Content-Type": params["mimeType"], "Content-Range": header}
    answer = api.post(f"{url}{root}/{UPLOAD}", params=params, data=data, headers=headers)
    assert answer.status_code == 200
    return answer.json()  # type: ignore[no-any-return]


def upload(
    api: requests.Session, url: str, file_id: str, data: bytes, size: int = 1000, **query: Any
) -> None:
    """The whole file, in chunks of ``size``; every chunk must be accepted."""
    for start in range(0, len(data), size):
        answer = send_chunk(api, url, file_id, data[start : start + size], start, total=len(data), **query)
        assert answer == {"success": True, "errorInfo": None}


def logged(creatio: EmulatorServer, count: int) -> list[LoggedRequest]:
    """The request log once it holds ``count`` entries: a streamed answer is logged after its last byte left."""
    deadline = time.monotonic() + 5
    while len(creatio.requests) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return creatio.requests


def refusal(answer: dict[str, Any]) -> tuple[str, str]:
    assert answer["success"] is False
    return answer["errorInfo"]["errorCode"], answer["errorInfo"]["message"]


def file_record(api: requests.Session, url: str, file_id: str, entity: str = "ContactFile") -> dict[str, Any]:
    answer = api.get(f"{url}/0/odata/{entity}({file_id})")
    assert answer.status_code == 200
    return answer.json()  # type: ignore[no-any-return]


# -- UploadFile: chunks ---------------------------------------------------------------------------------------------


def test_three_chunks_make_one_file_whose_size_is_set_by_the_last(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    file_id = new_id()
    assert send_chunk(api, creatio.url, file_id, DATA[:1000], 0, total=len(DATA))["success"]
    assert send_chunk(api, creatio.url, file_id, DATA[1000:2000], 1000, total=len(DATA))["success"]
    half_way = file_record(api, creatio.url, file_id)
    assert send_chunk(api, creatio.url, file_id, DATA[2000:], 2000, total=len(DATA))["success"]

    record = file_record(api, creatio.url, file_id)
    assert (half_way["Size"], half_way["TotalSize"]) == (0, 0)
    assert {key: record[key] for key in ("Name", "ContactId", "TypeId", "Size", "TotalSize", "Version")} == {
        "Name": "report.pdf",
        "ContactId": CONTACT,
        "TypeId": "529bc2f8-0ee0-df11-971b-001d60e938c6",
        "Size": len(DATA),
        "TotalSize": len(DATA),
        "Version": 1,
    }
    assert "Data" not in record
    assert creatio.files.read_bytes("ContactFile", file_id) == DATA


def test_a_resent_chunk_is_accepted_and_changes_nothing(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    file_id = new_id()
    send_chunk(api, creatio.url, file_id, DATA[:1000], 0, total=len(DATA))
    send_chunk(api, creatio.url, file_id, DATA[1000:2000], 1000, total=len(DATA))
    again = send_chunk(api, creatio.url, file_id, DATA[1000:2000], 1000, total=len(DATA))
    overlapping = send_chunk(api, creatio.url, file_id, DATA[500:2000], 500, total=len(DATA))
    send_chunk(api, creatio.url, file_id, DATA[2000:], 2000, total=len(DATA))
    last_again = send_chunk(api, creatio.url, file_id, DATA[2000:], 2000, total=len(DATA))
    whole_again = send_chunk(api, creatio.url, file_id, DATA)

    assert again["success"] and overlapping["success"] and last_again["success"] and whole_again["success"]
    assert creatio.files.read_bytes("ContactFile", file_id) == DATA
    assert file_record(api, creatio.url, file_id)["Version"] == 1  # the same bytes again are no new version


def test_a_gap_is_refused_and_names_the_next_byte(creatio: EmulatorServer, api: requests.Session) -> None:
    file_id = new_id()
    send_chunk(api, creatio.url, file_id, DATA[:1000], 0, total=len(DATA))

    code, message = refusal(send_chunk(api, creatio.url, file_id, DATA[2000:], 2000, total=len(DATA)))
    later_without_start = refusal(
        send_chunk(api, creatio.url, new_id(), DATA[1000:2000], 1000, total=len(DATA))
    )

    assert code == "ArgumentException"
    assert "without a gap" in message and "starts at byte 1000" in message
    assert "without a gap" in later_without_start[1]
    assert creatio.files.read_bytes("ContactFile", file_id) is None


def test_an_overlap_with_other_bytes_is_refused(creatio: EmulatorServer, api: requests.Session) -> None:
    file_id = new_id()
    send_chunk(api, creatio.url, file_id, DATA[:1000], 0, total=len(DATA))
    changed = bytes(255 - byte for byte in DATA[500:1500])

    code, message = refusal(send_chunk(api, creatio.url, file_id, changed, 500, total=len(DATA)))

    assert code == "ArgumentException"
    assert "different content" in message
    assert creatio.files.stats()["uploads_in_progress"] == 1
    upload(api, creatio.url, file_id, DATA)  # the upload goes on from where it was
    assert creatio.files.read_bytes("ContactFile", file_id) == DATA


def test_totals_must_agree(creatio: EmulatorServer, api: requests.Session) -> None:
    file_id = new_id()
    against_query = send_chunk(
        api, creatio.url, file_id, DATA[:1000], total=len(DATA), totalFileLength="9999"
    )
    send_chunk(api, creatio.url, file_id, DATA[:1000], 0, total=len(DATA))
    changed = send_chunk(api, creatio.url, file_id, DATA[1000:2000], 1000, total=len(DATA) + 1)
    past_end = send_chunk(api, creatio.url, new_id(), DATA[:10], content_range="bytes 0-9/5", total=5)
    short_body = send_chunk(api, creatio.url, new_id(), DATA[:10], content_range="bytes 0-19/20", total=20)
    no_range = api.post(
        f"{creatio.url}/0/rest/{UPLOAD}",
        params={
            "fileId": new_id(),
            "totalFileLength": "10",
            "fileName": "a.pdf",
            "columnName": "Data",
            "entitySchemaName": "ContactFile",
            "parentColumnName": "Contact",
            "parentColumnValue": CONTACT,
        },
        data=DATA[:10],
        headers=OCTET,
    ).json()

    assert "totalFileLength is 9999" in refusal(against_query)[1]
    assert "must not change between chunks" in refusal(changed)[1]
    assert "ends past the file's total length of 5 bytes" in refusal(past_end)[1]
    assert "the request body holds 10" in refusal(short_body)[1]
    assert "no Content-Range header" in refusal(no_range)[1]


def test_a_rerun_replaces_the_bytes_of_the_same_record(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    file_id = new_id()
    upload(api, creatio.url, file_id, DATA)
    second = b"version two" * 300

    send_chunk(api, creatio.url, file_id, second[:1000], 0, total=len(second), fileName="report-v2.pdf")
    during = api.get(f"{creatio.url}/0/rest/{DOWNLOAD}/ContactFile/{file_id}").content
    upload(api, creatio.url, file_id, second, fileName="report-v2.pdf")

    files = api.get(f"{creatio.url}/0/odata/ContactFile", params={"$filter": f"Contact/Id eq {CONTACT}"})
    assert during == DATA  # the stored version stays readable until the new one is complete
    assert [(each["Id"], each["Name"], each["Size"], each["Version"]) for each in files.json()["value"]] == [
        (file_id, "report-v2.pdf", len(second), 2)
    ]
    assert creatio.files.read_bytes("ContactFile", file_id) == second


# -- UploadFile: refusals ------------------------------------------------------------------------------------------


def test_a_file_over_max_file_size_is_refused_before_anything_is_stored(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    creatio.settings.max_file_size = 1000
    file_id = new_id()

    code, message = refusal(send_chunk(api, creatio.url, file_id, DATA[:1000], 0, total=1001))

    assert code == "ArgumentOutOfRangeException"
    assert "1001 bytes" in message and "MaxFileSize" in message and "1000 bytes" in message
    assert api.get(f"{creatio.url}/0/odata/ContactFile({file_id})").status_code == 404
    assert send_chunk(api, creatio.url, file_id, DATA[:1000])["success"]  # at the limit: accepted


def test_the_default_max_file_size_is_ten_megabytes(creatio: EmulatorServer, api: requests.Session) -> None:
    limit = 10 * 1024 * 1024
    assert creatio.settings.max_file_size == limit

    message = refusal(send_chunk(api, creatio.url, new_id(), DATA[:1000], 0, total=limit + 1))[1]

    assert "MaxFileSize" in message and "10 MB" in message


def test_extensions_on_the_deny_list_or_off_the_allow_list_are_refused(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    denied = send_chunk(api, creatio.url, new_id(), DATA[:10], fileName="setup.EXE")
    creatio.settings.file_extensions_allow = ["pdf", ".png"]
    off_list = send_chunk(api, creatio.url, new_id(), DATA[:10], fileName="notes.txt")
    no_extension = send_chunk(api, creatio.url, new_id(), DATA[:10], fileName="README")
    allowed = send_chunk(api, creatio.url, new_id(), DATA[:10], fileName="scan.PNG")
    creatio.settings.file_extensions_deny = []
    creatio.settings.file_extensions_allow = None
    undenied = send_chunk(api, creatio.url, new_id(), DATA[:10], fileName="setup.exe")

    assert refusal(denied)[0] == "SecurityException"
    assert "'.exe' is on the FileExtensionsDenyList" in refusal(denied)[1]
    assert "'.txt' is not on the FileExtensionsAllowList" in refusal(off_list)[1]
    assert "without an extension is not on the FileExtensionsAllowList" in refusal(no_extension)[1]
    assert allowed["success"] and undenied["success"]


def test_the_parent_must_exist_and_the_file_stay_with_it(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    file_id = new_id()
    missing = send_chunk(api, creatio.url, file_id, DATA[:10], parentColumnValue=new_id())
    upload(api, creatio.url, file_id, DATA[:10])
    other_parent = send_chunk(api, creatio.url, file_id, DATA[:10], parentColumnValue=OTHER_CONTACT)
    other_object = send_chunk(
        api,
        creatio.url,
        file_id,
        DATA[:10],
        entitySchemaName="AccountFile",
        parentColumnName="Account",
        parentColumnValue=ACCOUNT,
    )

    assert refusal(missing)[0] == "ItemNotFoundException" and "not found in Contact" in refusal(missing)[1]
    assert refusal(other_parent)[0] == "InvalidOperationException"
    assert f"belongs to Contact {CONTACT}" in refusal(other_parent)[1]
    assert "already exists in ContactFile, not in AccountFile" in refusal(other_object)[1]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"parentColumnName": "ContactId"}, "it is Contact"),
        ({"entitySchemaName": "Contact"}, "is not a file object"),
        ({"columnName": "Body"}, "columnName is Data"),
        ({"fileId": "not-a-guid"}, "fileId 'not-a-guid' is not a valid Guid"),
        ({"fileName": ""}, "fileName is required"),
    ],
)
def test_wrong_parameters_are_named(
    creatio: EmulatorServer, api: requests.Session, query: dict[str, str], words: str
) -> None:
    assert words in refusal(send_chunk(api, creatio.url, new_id(), DATA[:10], **query))[1]


# -- downloads ---------------------------------------------------------------------------------------------------


def test_a_download_is_the_bytes_with_their_type_length_and_name(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    plain, accented = new_id(), new_id()
    upload(api, creatio.url, plain, DATA)
    upload(api, creatio.url, accented, DATA[:10], fileName="Отчёт 2024.pdf")

    answer = api.get(f"{creatio.url}/0/rest/{DOWNLOAD}/ContactFile/{plain}")
    named = api.get(f"{creatio.url}/0/rest/{DOWNLOAD}/ContactFile/{accented}")
    unknown = api.get(f"{creatio.url}/0/rest/{DOWNLOAD}/ContactFile/{new_id()}")
    half = new_id()
    send_chunk(api, creatio.url, half, DATA[:1000], 0, total=len(DATA))
    incomplete = api.get(f"{creatio.url}/0/rest/{DOWNLOAD}/ContactFile/{half}")

    assert answer.status_code == 200 and answer.content == DATA
    assert answer.headers["Content-Type"] == "application/pdf"
    assert answer.headers["Content-Length"] == str(len(DATA))
    assert answer.headers["Content-Disposition"] == 'attachment; filename="report.pdf"'
    assert named.headers["Content-Disposition"] == (
        "attachment; filename=\"_____ 2024.pdf\"; filename*=UTF-8''%D0%9E%D1%82%D1%87%D1%91%D1%82%202024.pdf"
    )
    assert (unknown.status_code, incomplete.status_code) == (404, 404)
    assert "not found" in unknown.json()["Message"] and "has no content" in incomplete.json()["Message"]


@pytest.mark.parametrize("root", ["/0/rest", "/rest"])
def test_the_net_core_layout_serves_both_roots(creatio: EmulatorServer, root: str) -> None:
    creatio.settings.net_core = True
    api = login(creatio.url)
    file_id = new_id()

    assert send_chunk(api, creatio.url, file_id, DATA, root=root)["success"]
    assert api.get(f"{creatio.url}{root}/{DOWNLOAD}/ContactFile/{file_id}").content == DATA


def test_the_net_framework_layout_has_no_root_rest(creatio: EmulatorServer, api: requests.Session) -> None:
    answer = api.post(f"{creatio.url}/rest/{UPLOAD}", data=b"x", headers=OCTET)

    assert answer.status_code == 404
    assert "No HTTP resource was found" in answer.json()["Message"]


def test_file_services_need_a_session_or_a_bearer_token(creatio: EmulatorServer) -> None:
    anonymous = requests.get(f"{creatio.url}/0/rest/{DOWNLOAD}/ContactFile/{new_id()}")
    no_csrf = login(creatio.url)
    del no_csrf.headers["BPMCSRF"]
    token = requests.post(
        f"{creatio.identity_url}/connect/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "airflow-client",
            "client_secret": "airflow-secret",
        },
    ).json()["access_token"]
    bearer = requests.Session()
    bearer.headers["Authorization"] = f"Bearer {token}"
    file_id = new_id()

    assert anonymous.status_code == 401
    assert no_csrf.post(f"{creatio.url}/0/rest/{UPLOAD}", data=b"x", headers=OCTET).status_code == 403
    assert send_chunk(bearer, creatio.url, file_id, DATA)["success"]
    assert bearer.get(f"{creatio.url}/0/rest/{DOWNLOAD}/ContactFile/{file_id}").content == DATA


# -- OData: the file objects and their Data stream ---------------------------------------------------------------


def test_data_stream_put_get_delete(creatio: EmulatorServer, api: requests.Session) -> None:
    created = api.post(
        f"{creatio.url}/0/odata/AccountFile", json={"Name": "contract.pdf", "AccountId": ACCOUNT}
    ).json()
    data = f"{creatio.url}/0/odata/AccountFile({created['Id']})/Data"

    empty = api.get(data)
    put = api.put(data, data=DATA, headers=OCTET)
    read = api.get(data)
    sized = file_record(api, creatio.url, created["Id"], "AccountFile")
    deleted = api.delete(data)
    after = file_record(api, creatio.url, created["Id"], "AccountFile")

    assert (created["Size"], created["Version"], empty.status_code) == (0, 1, 204)
    assert created["Data@odata.mediaReadLink"] == f"AccountFile({created['Id']})/Data"
    assert put.status_code == 204
    assert read.status_code == 200 and read.content == DATA
    assert read.headers["Content-Type"] == "application/octet-stream"
    assert (sized["Size"], sized["TotalSize"]) == (len(DATA), len(DATA))
    assert deleted.status_code == 204 and api.get(data).status_code == 204
    assert (after["Size"], after["TotalSize"]) == (0, 0)


def test_data_stream_refusals(creatio: EmulatorServer, api: requests.Session) -> None:
    creatio.settings.max_file_size = 100
    record = api.post(f"{creatio.url}/0/odata/CaseFile", json={"Name": "log.txt", "CaseId": SEED_CASE}).json()
    risky = api.post(f"{creatio.url}/0/odata/CaseFile", json={"Name": "run.ps1", "CaseId": SEED_CASE}).json()
    data = f"{creatio.url}/0/odata/CaseFile({record['Id']})/Data"

    as_json = api.put(data, json={"Data": "abc"})
    too_big = api.put(data, data=DATA[:101], headers=OCTET)
    denied = api.put(f"{creatio.url}/0/odata/CaseFile({risky['Id']})/Data", data=DATA[:10], headers=OCTET)
    unknown = api.get(f"{creatio.url}/0/odata/CaseFile({new_id()})/Data")
    in_batch = api.post(
        f"{creatio.url}/0/odata/$batch",
        json={"requests": [{"id": "1", "method": "GET", "url": f"CaseFile({record['Id']})/Data"}]},
    )

    assert as_json.status_code == 415
    assert too_big.status_code == 413 and "MaxFileSize" in too_big.json()["error"]["message"]
    assert denied.status_code == 400 and "FileExtensionsDenyList" in denied.json()["error"]["message"]
    assert unknown.status_code == 404
    assert in_batch.json()["responses"][0]["status"] == 400
    assert creatio.files.stats()["stored"] == 0


def test_size_is_the_server_s_and_a_write_of_it_is_ignored(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    create = api.post(
        f"{creatio.url}/0/odata/ContactFile", json={"Name": "a.pdf", "ContactId": CONTACT, "Size": 5}
    )
    file_id = new_id()
    upload(api, creatio.url, file_id, DATA[:10])
    patch = api.patch(f"{creatio.url}/0/odata/ContactFile({file_id})", json={"TotalSize": 1})
    rename = api.patch(f"{creatio.url}/0/odata/ContactFile({file_id})", json={"Name": "renamed.pdf"})

    assert create.status_code == 201 and create.json()["Size"] == 0  # no bytes yet, whatever was sent
    assert patch.status_code == 204
    assert file_record(api, creatio.url, file_id)["TotalSize"] == 10
    assert rename.status_code == 204
    named = api.get(f"{creatio.url}/0/rest/{DOWNLOAD}/ContactFile/{file_id}")
    assert named.headers["Content-Disposition"] == 'attachment; filename="renamed.pdf"'


def test_sys_file_records_are_created_first_then_uploaded(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    sys_file = {"Name": "memo.pdf", "RecordSchemaName": "Account", "RecordId": ACCOUNT}
    file_id = api.post(f"{creatio.url}/0/odata/SysFile", json=sys_file).json()["Id"]
    sys_query = {"entitySchemaName": "SysFile", "parentColumnName": "RecordId", "parentColumnValue": ACCOUNT}

    uploaded = send_chunk(api, creatio.url, file_id, DATA, fileName="memo.pdf", **sys_query)
    not_created = send_chunk(api, creatio.url, new_id(), DATA, **sys_query)
    wrong_record = send_chunk(api, creatio.url, file_id, DATA, **{**sys_query, "parentColumnValue": CONTACT})
    gone = new_id()  # SysFile's RecordId is no foreign key: a record may name a parent that is not there
    orphan = api.post(f"{creatio.url}/0/odata/SysFile", json={**sys_file, "RecordId": gone}).json()["Id"]
    no_parent = send_chunk(api, creatio.url, orphan, DATA, **{**sys_query, "parentColumnValue": gone})

    assert uploaded["success"]
    assert api.get(f"{creatio.url}/0/rest/{DOWNLOAD}/SysFile/{file_id}").content == DATA
    assert file_record(api, creatio.url, file_id, "SysFile")["Size"] == len(DATA)
    assert "create it first (POST odata/SysFile" in refusal(not_created)[1]
    assert f"belongs to Account {ACCOUNT}" in refusal(wrong_record)[1]
    assert (
        refusal(no_parent)[0] == "ItemNotFoundException" and "not found in Account" in refusal(no_parent)[1]
    )


def test_metadata_lists_the_file_objects_with_a_stream_data_column(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    document = ET.fromstring(api.get(f"{creatio.url}/0/odata/$metadata").content)
    edm = "{http://docs.oasis-open.org/odata/ns/edm}"
    types = {each.get("Name"): each for each in document.iter(f"{edm}EntityType")}
    sets = {each.get("Name") for each in document.iter(f"{edm}EntitySet")}

    for entity in ("ContactFile", "AccountFile", "CaseFile", "ActivityFile", "SysFile", "FileType"):
        assert entity in sets
    for entity in ("ContactFile", "AccountFile", "CaseFile", "ActivityFile", "SysFile"):
        properties = {each.get("Name"): each.get("Type") for each in types[entity].iter(f"{edm}Property")}
        assert properties["Data"] == "Edm.Stream"
        assert (properties["Size"], properties["TotalSize"], properties["Version"]) == ("Edm.Int32",) * 3
    sys_file = {each.get("Name"): each.get("Type") for each in types["SysFile"].iter(f"{edm}Property")}
    assert (sys_file["RecordSchemaName"], sys_file["RecordId"]) == ("Edm.String", "Edm.Guid")
    assert {each.get("Name") for each in types["ActivityFile"].iter(f"{edm}NavigationProperty")} >= {
        "Activity",
        "Type",
    }


def test_file_records_page_filter_and_batch_like_any_entity(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    for _ in range(3):
        upload(api, creatio.url, new_id(), DATA[:10])
    upload(api, creatio.url, new_id(), DATA[:10], parentColumnValue=OTHER_CONTACT)
    odata = f"{creatio.url}/0/odata"

    mine = api.get(f"{odata}/ContactFile", params={"$filter": f"Contact/Id eq {CONTACT}", "$orderby": "Id"})
    ids = [each["Id"] for each in mine.json()["value"]]
    after_first = f"Contact/Id eq {CONTACT} and Id gt {ids[0]}"
    page = api.get(f"{odata}/ContactFile", params={"$filter": after_first, "$orderby": "Id", "$top": "1"})
    batch = api.post(
        f"{odata}/$batch",
        json={
            "requests": [
                {"id": "1", "method": "POST", "url": "ActivityFile", "body": {"Name": "x.pdf"}},
                {"id": "2", "method": "DELETE", "url": f"ContactFile({ids[0]})"},
            ]
        },
    )

    assert len(ids) == 3 and all(each["Size"] == 10 for each in mine.json()["value"])
    assert [each["Id"] for each in page.json()["value"]] == [ids[1]]
    assert [each["status"] for each in batch.json()["responses"]] == [201, 204]
    assert creatio.files.read_bytes("ContactFile", ids[0]) is None  # a deleted record's bytes go with it


def test_a_parent_with_files_cannot_be_deleted(creatio: EmulatorServer, api: requests.Session) -> None:
    contact = api.post(f"{creatio.url}/0/odata/Contact", json={"Name": "Has Files"}).json()["Id"]
    file_id = new_id()
    upload(api, creatio.url, file_id, DATA[:10], parentColumnValue=contact)

    refused = api.delete(f"{creatio.url}/0/odata/Contact({contact})")
    api.delete(f"{creatio.url}/0/odata/ContactFile({file_id})")
    allowed = api.delete(f"{creatio.url}/0/odata/Contact({contact})")

    assert refused.status_code == 500 and "ContactFile" in refused.json()["error"]["message"]
    assert allowed.status_code == 204
    assert creatio.files.stats()["stored"] == 0


# -- where the bytes live, and what the calls cost ------------------------------------------------------------------


def test_a_large_file_lives_on_disk_and_downloads_whole(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    creatio.settings.max_file_size = 64 * 1024 * 1024
    size, chunk = 30 * 1024 * 1024, 1024 * 1024
    block = hashlib.sha256(b"creatio").digest() * (chunk // 32)  # 1 MiB
    file_id = new_id()
    for start in range(0, size, chunk):
        piece = bytes([start // chunk]) + block[1:]
        assert send_chunk(api, creatio.url, file_id, piece, start, total=size)["success"]

    path = creatio.files.path_of("ContactFile", file_id)
    answer = api.get(f"{creatio.url}/0/rest/{DOWNLOAD}/ContactFile/{file_id}", stream=True)
    got, received = hashlib.sha256(), 0
    for part in answer.iter_content(chunk_size=chunk):
        got.update(part)
        received += len(part)
    expected = hashlib.sha256(b"".join(bytes([index]) + block[1:] for index in range(size // chunk)))

    assert path is not None and path.is_file() and path.parent == creatio.files.directory
    assert path.stat().st_size == size
    assert (received, got.hexdigest()) == (size, expected.hexdigest())
    creatio.reset()
    assert not path.exists() and creatio.files.directory is None


def test_small_files_stay_in_memory_and_a_reset_clears_them(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    file_id = new_id()
    upload(api, creatio.url, file_id, DATA)
    assert creatio.files.path_of("ContactFile", file_id) is None
    assert creatio.stats()["files"] == {
        "stored": 1,
        "bytes": len(DATA),
        "on_disk": 0,
        "uploads_in_progress": 0,
    }

    creatio.reset()

    assert creatio.files.read_bytes("ContactFile", file_id) is None
    assert creatio.stats()["files"]["stored"] == 0
    assert login(creatio.url).get(f"{creatio.url}/0/odata/ContactFile({file_id})").status_code == 404


def test_each_chunk_and_each_download_is_one_api_call(creatio: EmulatorServer, api: requests.Session) -> None:
    file_id = new_id()
    upload(api, creatio.url, file_id, DATA)  # three chunks
    send_chunk(api, creatio.url, new_id(), DATA, fileName="x.exe")  # refused, but served: a call
    api.get(f"{creatio.url}/0/rest/{DOWNLOAD}/ContactFile/{file_id}")
    api.get(f"{creatio.url}/0/odata/ContactFile({file_id})/Data")

    log = logged(creatio, 7)[1:]  # after the login
    assert [entry.api_calls for entry in log] == [1, 1, 1, 1, 1, 1]
    assert creatio.stats()["api_calls"] == {"Supervisor": {utc_day(log[-1].timestamp): 6}}


def test_each_accepted_chunk_is_one_record_written_for_the_server_model(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    creatio.settings.server_write_work_per_record = 0.01
    creatio.settings.server_read_work_per_record = 0.001

    upload(api, creatio.url, new_id(), DATA)  # three chunks written
    send_chunk(api, creatio.url, new_id(), DATA, fileName="x.exe")  # refused: nothing written
    file_id = new_id()
    upload(api, creatio.url, file_id, DATA[:10])
    api.get(f"{creatio.url}/0/rest/{DOWNLOAD}/ContactFile/{file_id}")  # one record read

    assert creatio.stats()["server"]["work_seconds"] == pytest.approx(4 * 0.01 + 0.001)


def test_the_command_line_sets_the_file_limits() -> None:
    default = parse_args([])
    given = parse_args(
        ["--max-file-size", "0", "--file-extensions-deny", "", "--file-extensions-allow", "pdf, .png"]
    )

    assert (default.max_file_size, default.file_extensions_allow) == (10 * 1024 * 1024, None)
    assert "exe" in default.file_extensions_deny
    assert (given.max_file_size, given.file_extensions_deny, given.file_extensions_allow) == (
        None,
        [],
        ["pdf", ".png"],
    )


def test_a_chunk_over_aspnets_request_limit_is_refused(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    total = 4 * 1024 * 1024 + 1
    params = {
        "fileId": new_id(),
        "totalFileLength": str(total),
        "fileName": "big.bin",
        "columnName": "Data",
        "entitySchemaName": "ContactFile",
        "parentColumnName": "Contact",
        "parentColumnValue": CONTACT,
    }
    headers = {"Content-Type": "application/octet-stream", "Content-Range": f"bytes 0-{total - 1}/{total}"}
    answer = api.post(f"{creatio.url}/0/rest/{UPLOAD}", params=params, data=b"x" * total, headers=headers)
    assert answer.status_code == 500 and answer.json()["Message"] == "Maximum request length exceeded."
