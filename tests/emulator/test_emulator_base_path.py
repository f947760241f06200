"""A site under a virtual directory (seed 000: ``/7.15.1.1295_SalesEnterprise/0/ServiceModel/...``): everything is
served below it, cookies are set for it, redirects and URLs name it, and nothing answers outside it."""

from __future__ import annotations

import uuid

import pytest
import requests
from emulator_helpers import login

from airflow_provider_creatio.testing.emulator import EmulatorServer, EmulatorSettings
from airflow_provider_creatio.testing.emulator.__main__ import parse_args
from airflow_provider_creatio.testing.emulator.settings import SettingsError

BASE = "/7.15.1.1295_SalesEnterprise"
API_TEST = "12d21632-8b20-45d9-942f-20fcbbf2957c"


@pytest.fixture
def vdir(creatio: EmulatorServer) -> EmulatorServer:
    creatio.settings.base_path = BASE
    return creatio


def root_of(server: EmulatorServer) -> str:
    return f"http://{server.host}:{server.port}"


def test_the_url_names_the_virtual_directory(vdir: EmulatorServer) -> None:
    assert vdir.url == f"{root_of(vdir)}{BASE}"


def test_login_sets_cookies_for_the_virtual_directory(vdir: EmulatorServer) -> None:
    answer = requests.post(
        f"{vdir.url}/ServiceModel/AuthService.svc/Login",
        json={"UserName": "Supervisor", "UserPassword": "Supervisor"},
    )

    assert answer.json()["Code"] == 0
    paths = {cookie.name: cookie.path for cookie in answer.cookies}
    assert set(paths) >= {"BPMLOADER", ".ASPXAUTH", "BPMCSRF", "UserName"}
    assert set(paths.values()) == {BASE}


@pytest.mark.parametrize(
    ("net_core", "root"), [(False, "/0/odata"), (True, "/odata")], ids=["netfx", "netcore"]
)
def test_odata_is_served_below_the_virtual_directory(vdir: EmulatorServer, net_core: bool, root: str) -> None:
    vdir.settings.net_core = net_core
    site = login(vdir.url)

    answer = site.get(f"{vdir.url}{root}/Contact/{API_TEST}")

    assert answer.status_code == 200
    assert answer.json()["@odata.context"] == f"{vdir.url}{root}/$metadata#Contact/$entity"
    created = site.post(f"{vdir.url}{root}/Contact", json={"Name": "Under a directory"})
    assert created.headers["Location"].startswith(f"{vdir.url}{root}/Contact(")


def test_nothing_answers_outside_the_virtual_directory(vdir: EmulatorServer) -> None:
    site = login(vdir.url)

    outside = site.get(
        f"{root_of(vdir)}/0/odata/Contact/{API_TEST}", headers={"BPMCSRF": site.cookies["BPMCSRF"]}
    )
    login_at_root = requests.post(
        f"{root_of(vdir)}/ServiceModel/AuthService.svc/Login",
        json={"UserName": "Supervisor", "UserPassword": "Supervisor"},
    )

    assert outside.status_code == 404
    assert login_at_root.status_code == 404


def test_the_login_redirect_stays_in_the_virtual_directory(vdir: EmulatorServer) -> None:
    vdir.settings.expiry_form = "302"

    answer = requests.get(f"{vdir.url}/0/odata/Contact", allow_redirects=False)

    assert answer.status_code == 302
    assert answer.headers["Location"] == (
        f"{BASE}/Login/NuiLogin.aspx?ReturnUrl=%2F7.15.1.1295_SalesEnterprise%2F0%2Fodata%2FContact"
    )


def test_process_engine_and_batch_urls_under_the_virtual_directory(vdir: EmulatorServer) -> None:
    site = login(vdir.url)
    new_id = str(uuid.uuid4())
    requests_ = [
        {
            "id": "1",
            "method": "POST",
            "url": f"{BASE}/0/odata/Contact",
            "body": {"Id": new_id, "Name": "Abs"},
        },
        {"id": "2", "method": "GET", "url": f"{vdir.url}/0/odata/Contact({new_id})/Name/$value"},
    ]

    batch = site.post(f"{vdir.url}/0/odata/$batch", json={"requests": requests_}).json()["responses"]
    run = site.post(
        f"{vdir.url}/0/ServiceModel/ProcessEngineService.svc/RunProcess", json={"schemaName": "NoSuchProcess"}
    )

    assert [(item["status"], item.get("body")) for item in batch][1] == (200, "Abs")
    assert run.status_code == 200
    assert run.json()["success"] is False


def test_the_admin_endpoints_answer_below_the_directory_and_at_the_root(vdir: EmulatorServer) -> None:
    assert requests.get(f"{vdir.url}/__emulator__/settings").json()["base_path"] == BASE
    assert requests.get(f"{root_of(vdir)}/__emulator__/settings").status_code == 200


@pytest.mark.parametrize("bad", ["site", "/site/", "/a b", 3])
def test_a_base_path_needs_a_leading_slash_and_no_trailing_one(bad: object) -> None:
    with pytest.raises(SettingsError, match="base_path"):
        EmulatorSettings(base_path=bad)  # type: ignore[arg-type]


def test_the_command_line_takes_a_base_path() -> None:
    assert parse_args(["--base-path", "/7.15.1.1295_SalesEnterprise"]).base_path == BASE
    assert parse_args([]).base_path == ""
