"""Cookie login, BPMCSRF, the faces of an expired session and logout (OAuth: test_emulator_identity.py)."""

from __future__ import annotations

import pytest
import requests
from emulator_helpers import LOGIN, login

from airflow_provider_creatio.testing.emulator import EmulatorServer

AUTH_FAILED = {
    "Message": "Authentication failed.",
    "StackTrace": None,
    "ExceptionType": "System.Security.Authentication.AuthenticationException",
}
CONTACT = "/0/odata/Contact(12d21632-8b20-45d9-942f-20fcbbf2957c)"


def test_login_answers_code_0_and_sets_the_five_cookies(creatio: EmulatorServer) -> None:
    answer = requests.post(
        f"{creatio.url}{LOGIN}", json={"UserName": "Supervisor", "UserPassword": "Supervisor"}
    )

    assert answer.status_code == 200
    assert answer.json() == {
        "Code": 0,
        "Message": "",
        "Exception": None,
        "PasswordChangeUrl": None,
        "RedirectUrl": None,
    }
    assert {cookie.name for cookie in answer.cookies} == {
        "BPMLOADER",
        ".ASPXAUTH",
        "BPMCSRF",
        "UserName",
        "BPMSESSIONID",
    }
    assert all(cookie.path == "/" for cookie in answer.cookies)
    assert answer.cookies["UserName"].startswith("83|")  # "S" as Creatio encodes it
    assert creatio.login_count == 1


def test_each_login_gets_new_random_cookie_values(creatio: EmulatorServer) -> None:
    first, second = login(creatio.url), login(creatio.url)

    for name in (".ASPXAUTH", "BPMCSRF", "BPMSESSIONID"):
        assert first.cookies[name] != second.cookies[name]
    assert creatio.login_count == 2


@pytest.mark.parametrize(
    "body",
    [
        {"UserName": "Supervisor", "UserPassword": "wrong"},
        {"UserName": "Nobody", "UserPassword": "Supervisor"},
        {"UserName": "Supervisor"},
    ],
)
def test_wrong_credentials_are_http_200_with_code_1(creatio: EmulatorServer, body: dict[str, str]) -> None:
    answer = requests.post(f"{creatio.url}{LOGIN}", json=body)

    assert answer.status_code == 200
    assert answer.json()["Code"] == 1
    assert answer.json()["Message"] == "Either user name or password specified incorrectly."
    assert not answer.cookies
    assert creatio.login_count == 0


def test_login_uses_the_configured_credentials(creatio: EmulatorServer) -> None:
    creatio.settings.username, creatio.settings.password = "Integration", "s3cret"

    assert (
        requests.post(
            f"{creatio.url}{LOGIN}", json={"UserName": "Supervisor", "UserPassword": "Supervisor"}
        ).json()["Code"]
        == 1
    )
    login(creatio.url, "Integration", "s3cret")


def test_login_below_slash_zero_answers_401(creatio: EmulatorServer) -> None:
    answer = requests.post(
        f"{creatio.url}/0{LOGIN}", json={"UserName": "Supervisor", "UserPassword": "Supervisor"}
    )

    assert answer.status_code == 401
    assert creatio.login_count == 0


def test_login_needs_a_json_body(creatio: EmulatorServer) -> None:
    answer = requests.post(f"{creatio.url}{LOGIN}", data="UserName=Supervisor")

    assert answer.status_code == 415


def test_a_session_with_bpmcsrf_reads_data(creatio: EmulatorServer, api: requests.Session) -> None:
    answer = api.get(f"{creatio.url}{CONTACT}")

    assert answer.status_code == 200
    assert creatio.requests[-1].auth == "cookie"


@pytest.mark.parametrize("csrf", [None, "not-the-token"])
def test_missing_or_wrong_bpmcsrf_is_403(
    creatio: EmulatorServer, api: requests.Session, csrf: str | None
) -> None:
    if csrf is None:
        del api.headers["BPMCSRF"]
    else:
        api.headers["BPMCSRF"] = csrf

    answer = api.get(f"{creatio.url}{CONTACT}")

    assert answer.status_code == 403


def test_the_session_cookie_alone_identifies_the_session(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    for name in (".ASPXAUTH", "BPMSESSIONID"):
        only = {name: api.cookies[name]}
        answer = requests.get(
            f"{creatio.url}{CONTACT}", cookies=only, headers={"BPMCSRF": api.cookies["BPMCSRF"]}
        )
        assert answer.status_code == 200, name


def test_no_session_is_401_with_the_documented_body(creatio: EmulatorServer) -> None:
    answer = requests.get(f"{creatio.url}{CONTACT}")

    assert answer.status_code == 401
    assert answer.json() == AUTH_FAILED


@pytest.mark.parametrize(
    ("net_core", "login_page"), [(False, "/Login/NuiLogin.aspx"), (True, "/Login/Login.html")]
)
def test_expiry_form_302_redirects_to_the_layouts_login_page(
    creatio: EmulatorServer, net_core: bool, login_page: str
) -> None:
    creatio.settings.expiry_form = "302"
    creatio.settings.net_core = net_core

    answer = requests.get(f"{creatio.url}{CONTACT}?$select=Name", allow_redirects=False)

    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(f"{login_page}?ReturnUrl=")
    assert "text/html" in answer.headers["Content-Type"]
    followed = requests.get(f"{creatio.url}{answer.headers['Location']}", allow_redirects=False)
    assert followed.status_code == 200
    assert "text/html" in followed.headers["Content-Type"]


def test_expiry_form_html_is_a_200_login_page(creatio: EmulatorServer) -> None:
    creatio.settings.expiry_form = "html"

    answer = requests.get(f"{creatio.url}{CONTACT}")

    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "UserPassword" in answer.text


def test_expire_sessions_ends_every_session(creatio: EmulatorServer, api: requests.Session) -> None:
    assert api.get(f"{creatio.url}{CONTACT}").status_code == 200

    creatio.expire_sessions()

    assert api.get(f"{creatio.url}{CONTACT}").status_code == 401


def test_session_lifetime_is_an_inactivity_timeout(creatio: EmulatorServer, api: requests.Session) -> None:
    creatio.settings.session_lifetime = 3600
    assert api.get(f"{creatio.url}{CONTACT}").status_code == 200

    creatio.settings.session_lifetime = 0  # any pause since the last call is now too long

    assert api.get(f"{creatio.url}{CONTACT}").status_code == 401
    creatio.settings.session_lifetime = None
    assert api.get(f"{creatio.url}{CONTACT}").status_code == 401  # an expired session stays gone


def test_logout_ends_the_session(creatio: EmulatorServer, api: requests.Session) -> None:
    answer = api.post(f"{creatio.url}/ServiceModel/AuthService.svc/Logout")

    assert answer.status_code == 200
    cookies = {".ASPXAUTH": "", "BPMCSRF": ""}
    assert requests.get(f"{creatio.url}{CONTACT}", cookies=cookies).status_code == 401
    assert api.get(f"{creatio.url}{CONTACT}").status_code == 401
