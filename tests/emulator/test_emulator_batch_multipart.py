"""$batch as Creatio's documentation writes it: multipart/mixed with changesets (LF line ends, Content-ID among the
inner headers, unclosed changesets), in both layouts; and the JSON answer's shape (lower-case header names, a
server-made atomicityGroup GUID, no body on 204)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
import requests
from emulator_helpers import login

from airflow_provider_creatio.testing.emulator import EmulatorServer

API_TEST = "12d21632-8b20-45d9-942f-20fcbbf2957c"
GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
BATCH_TYPE = "multipart/mixed;boundary=batch_a685-9724-d873"


def part(request_line: str, content_id: str, body: str | None = None) -> str:
    lines = [
        "Content-Type: application/http",
        "Content-Transfer-Encoding: binary",
        "",
        f"{request_line} HTTP/1.1",
        f"Content-ID: {content_id}",
        "Accept: application/atomsvc+xml;q=0.8, application/json;odata=verbose;q=0.5, */*;q=0.1",
        "Content-Type: application/json;odata=verbose",
        "",
    ]
    return "\n".join([*lines, body or "", ""])


def documented_changeset(city_id: str) -> str:
    """The documentation's one-changeset example: create a City, rename it, delete it."""
    return "\n".join(
        [
            "--batch_a685-9724-d873",
            "Content-Type: multipart/mixed; boundary=changeset_06da-d998-8e7e",
            "",
            "--changeset_06da-d998-8e7e",
            part("POST City", "1", f'{{"Id": "{city_id}", "Name": "Burbank"}}'),
            "--changeset_06da-d998-8e7e",
            part(f"PATCH City/{city_id}", "2", '{"Name": "Spokane"}'),
            "--changeset_06da-d998-8e7e",
            part(f"DELETE City/{city_id}", "3"),
            "--changeset_06da-d998-8e7e--",
            "--batch_a685-9724-d873--",
            "",
        ]
    )


@pytest.fixture(params=["/0/odata", "/odata"], ids=["netfx", "netcore"])
def odata_root(request: pytest.FixtureRequest, creatio: EmulatorServer) -> str:
    creatio.settings.net_core = request.param == "/odata"
    return f"{creatio.url}{request.param}"


@pytest.fixture
def site(creatio: EmulatorServer, odata_root: str) -> Iterator[requests.Session]:
    session = login(creatio.url)
    yield session
    session.close()


def post_batch(site: requests.Session, odata_root: str, body: str, accept: str) -> requests.Response:
    headers = {"Content-Type": BATCH_TYPE, "Accept": accept}
    return site.post(f"{odata_root}/$batch", data=body.encode(), headers=headers)


def test_a_multipart_batch_with_accept_json_is_answered_in_json(
    site: requests.Session, odata_root: str
) -> None:
    city = str(uuid.uuid4())

    answer = post_batch(site, odata_root, documented_changeset(city), "application/json")

    assert answer.status_code == 200
    responses = answer.json()["responses"]
    assert [(item["id"], item["status"]) for item in responses] == [("1", 201), ("2", 204), ("3", 204)]
    assert responses[0]["body"]["Name"] == "Burbank"
    groups = {item["atomicityGroup"] for item in responses}
    assert len(groups) == 1 and GUID.fullmatch(groups.pop())
    assert site.get(f"{odata_root}/City({city})").status_code == 404


def test_a_multipart_batch_is_answered_in_multipart_otherwise(
    site: requests.Session, odata_root: str
) -> None:
    city = str(uuid.uuid4())

    answer = post_batch(site, odata_root, documented_changeset(city), "multipart/mixed")

    assert answer.status_code == 200
    content_type = answer.headers["Content-Type"]
    assert content_type.startswith("multipart/mixed; boundary=batchresponse_")
    boundary = content_type.split("boundary=")[1]
    text = answer.text
    assert text.startswith(f"--{boundary}\r\n") and text.endswith(f"--{boundary}--\r\n")
    assert text.count("Content-Type: multipart/mixed; boundary=changesetresponse_") == 1
    statuses = re.findall(r"^HTTP/1\.1 (\d{3})", text, re.MULTILINE)
    assert statuses == ["201", "204", "204"]
    assert re.findall(r"^Content-ID: (\S+)", text, re.MULTILINE) == ["1", "2", "3"]
    assert '"Name":"Burbank"' in text


def test_unclosed_changesets_as_in_the_documentations_second_example(
    site: requests.Session, odata_root: str
) -> None:
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    body = "\n".join(
        [
            "--batch_a685-9724-d873",
            "Content-Type: multipart/mixed; boundary=changeset_06da-d998-8e7e",
            "",
            "--changeset_06da-d998-8e7e",
            part("POST City", "1", f'{{"Id": "{first}", "Name": "Burbank"}}'),
            "--batch_a685-9724-d873",
            "Content-Type: multipart/mixed; boundary=changeset_06da-d998-8e71",
            "",
            "--changeset_06da-d998-8e71",
            part("POST City", "2", f'{{"Id": "{second}", "Name": "Spokane"}}'),
        ]
    )

    responses = post_batch(site, odata_root, body, "application/json").json()["responses"]

    assert [(item["id"], item["status"]) for item in responses] == [("1", 201), ("2", 201)]
    assert responses[0]["atomicityGroup"] != responses[1]["atomicityGroup"]
    assert site.get(f"{odata_root}/City({second})?$select=Name").json()["Name"] == "Spokane"


def test_a_request_outside_a_changeset_and_a_content_id_reference(
    site: requests.Session, odata_root: str
) -> None:
    body = "\r\n".join(
        [
            "--batch_a685-9724-d873",
            "Content-Type: multipart/mixed; boundary=changeset_1",
            "",
            "--changeset_1",
            part("POST Account", "new", '{"Name": "Referenced"}'),
            "--changeset_1",
            part("PATCH $new", "rename", '{"Name": "Renamed"}'),
            "--changeset_1--",
            "--batch_a685-9724-d873",
            part(f"GET Contact({API_TEST})/Name", "read"),
            "--batch_a685-9724-d873--",
        ]
    )

    responses = post_batch(site, odata_root, body, "application/json").json()["responses"]

    assert [(item["id"], item["status"]) for item in responses] == [
        ("new", 201),
        ("rename", 204),
        ("read", 200),
    ]
    assert "atomicityGroup" not in responses[2]
    assert responses[2]["body"]["value"] == "API Test"
    created = responses[0]["body"]["Id"]
    assert site.get(f"{odata_root}/Account({created})").json()["Name"] == "Renamed"


def test_a_multipart_batch_stops_at_the_first_failure_without_continue_on_error(
    site: requests.Session, odata_root: str
) -> None:
    body = "\n".join(
        [
            "--batch_a685-9724-d873",
            part(f"GET Contact({uuid.uuid4()})", "1"),
            "--batch_a685-9724-d873",
            part(f"GET Contact({API_TEST})", "2"),
            "--batch_a685-9724-d873--",
        ]
    )

    stopped = post_batch(site, odata_root, body, "application/json").json()["responses"]
    headers = {"Content-Type": BATCH_TYPE, "Accept": "application/json", "Prefer": "continue-on-error"}
    continued = site.post(f"{odata_root}/$batch", data=body, headers=headers).json()["responses"]

    assert [item["status"] for item in stopped] == [404]
    assert [item["status"] for item in continued] == [404, 200]


def test_a_multipart_body_without_requests_is_400(site: requests.Session, odata_root: str) -> None:
    body = "--batch_a685-9724-d873\nContent-Type: application/http\n\nnot a request line\n--batch_a685-9724-d873--"

    answer = post_batch(site, odata_root, body, "application/json")

    assert answer.status_code == 400
    assert "request line" in answer.json()["error"]["message"]


# -- the JSON answer's shape ------------------------------------------------------------------------------------------


def test_json_answers_lower_case_headers_a_server_guid_group_and_no_body_on_204(
    site: requests.Session, odata_root: str
) -> None:
    city = str(uuid.uuid4())
    requests_ = [
        {"method": "POST", "url": "City", "id": "t3", "atomicityGroup": "g1", "body": {"Id": city, "Name": "A"},
         "headers": {"Content-Type": "application/json;odata=verbose"}},
        {"method": "PATCH", "url": f"City/{city}", "id": "t2", "atomicityGroup": "g1", "body": {"Name": "B"}},
        {"method": "GET", "url": f"City({city})/Name/$value", "id": "t1"},
    ]  # fmt: skip

    responses = site.post(f"{odata_root}/$batch", json={"requests": requests_}).json()["responses"]

    created, patched, read = responses
    assert created["headers"]["location"] == f"{odata_root}/City({city})"
    assert created["headers"]["odata-version"] == "4.0"
    assert all(name == name.lower() for item in responses for name in item["headers"])
    assert created["atomicityGroup"] == patched["atomicityGroup"] != "g1"
    assert GUID.fullmatch(created["atomicityGroup"])
    assert "atomicityGroup" not in read
    assert patched["status"] == 204 and "body" not in patched and "content-type" not in patched["headers"]
    assert read["body"] == "B"


def test_the_documented_json_batch_as_written(site: requests.Session, odata_root: str) -> None:
    """Academy "Batch request examples", JSON form: two creates that share the id "t3", then a PATCH by key
    segment in the same atomicity group."""
    spokane = "62f9bc01-57cf-4cc7-90bf-8672acc922e3"
    item_headers = {
        "Content-Type": "application/json;odata=verbose",
        "Accept": "application/json;odata=verbose",
        "Prefer": "continue-on-error",
    }
    document = {
        "requests": [
            {"method": "POST", "url": "City", "id": "t3", "body": {"Name": "Burbank"}, "headers": item_headers},
            {"method": "POST", "atomicityGroup": "g1", "url": "City", "id": "t3",
             "body": {"Id": spokane, "Name": "Spokane"}, "headers": item_headers},
            {"method": "PATCH", "atomicityGroup": "g1", "url": f"City/{spokane}", "id": "t2",
             "body": {"Name": "Texas"}, "headers": item_headers},
        ]
    }  # fmt: skip
    headers = {
        "Content-Type": "application/json; odata=verbose; IEEE754Compatible=true",
        "Accept": "application/json",
    }

    answer = site.post(f"{odata_root}/$batch", json=document, headers=headers)

    assert answer.status_code == 200
    responses = answer.json()["responses"]
    assert [(item["id"], item["status"]) for item in responses] == [("t3", 201), ("t3", 201), ("t2", 204)]
    assert "atomicityGroup" not in responses[0]
    assert responses[1]["atomicityGroup"] == responses[2]["atomicityGroup"]
    assert site.get(f"{odata_root}/City/{spokane}/Name/$value").text == "Texas"
