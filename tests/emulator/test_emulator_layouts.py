"""URL layouts: .NET Framework serves /0/ only; .NET Core serves both; login always at the site root."""

from __future__ import annotations

import pytest
import requests
from emulator_helpers import login

from airflow_provider_creatio.testing.emulator import EmulatorServer

CONTACT = "Contact(12d21632-8b20-45d9-942f-20fcbbf2957c)"


def test_net_framework_serves_odata_only_under_slash_zero(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    assert api.get(f"{creatio.url}/0/odata/{CONTACT}").status_code == 200

    answer = api.get(f"{creatio.url}/odata/{CONTACT}")

    assert answer.status_code == 404
    assert set(answer.json()) == {"Message", "MessageDetail"}


def test_net_framework_has_no_root_service_model(creatio: EmulatorServer, api: requests.Session) -> None:
    answer = api.post(f"{creatio.url}/ServiceModel/ProcessEngineService.svc/RunProcess", json={})

    assert answer.status_code == 404


@pytest.mark.parametrize("root", ["/0/odata", "/odata"])
def test_net_core_serves_both_odata_roots(creatio: EmulatorServer, root: str) -> None:
    creatio.settings.net_core = True
    api = login(creatio.url)

    answer = api.get(f"{creatio.url}{root}/{CONTACT}")

    assert answer.status_code == 200
    assert answer.json()["@odata.context"] == f"{creatio.url}{root}/$metadata#Contact/$entity"


def test_the_layout_can_change_while_running(creatio: EmulatorServer, api: requests.Session) -> None:
    creatio.settings.net_core = True
    assert api.get(f"{creatio.url}/odata/{CONTACT}").status_code == 200

    creatio.settings.net_core = False

    assert api.get(f"{creatio.url}/odata/{CONTACT}").status_code == 404


@pytest.mark.parametrize("net_core", [False, True])
def test_login_is_at_the_site_root_in_both_layouts(creatio: EmulatorServer, net_core: bool) -> None:
    creatio.settings.net_core = net_core
    credentials = {"UserName": "Supervisor", "UserPassword": "Supervisor"}

    root = requests.post(f"{creatio.url}/ServiceModel/AuthService.svc/Login", json=credentials)
    below_zero = requests.post(f"{creatio.url}/0/ServiceModel/AuthService.svc/Login", json=credentials)

    assert root.json()["Code"] == 0
    assert below_zero.status_code == 401


def test_unknown_paths_answer_the_routing_404(creatio: EmulatorServer, api: requests.Session) -> None:
    for path in ("/nothing/here", "/0/ServiceModel/NoSuch.svc/Call"):
        answer = api.get(f"{creatio.url}{path}")
        assert answer.status_code == 404, path
        assert "No HTTP resource was found" in answer.json()["Message"]
