"""The emulated identity server: client registration, the client credentials grant, refusals, bearer tokens on
every Creatio endpoint, and token expiry. Plain ``requests`` only."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest
import requests
from emulator_helpers import login

from airflow_provider_creatio.testing.emulator import EmulatorServer

CLIENT = {"client_id": "airflow-client", "client_secret": "airflow-secret"}
CONTACT_ID = "12d21632-8b20-45d9-942f-20fcbbf2957c"


def token(creatio: EmulatorServer, **form: str) -> requests.Response:
    fields = {"grant_type": "client_credentials", **CLIENT}
    return requests.post(f"{creatio.identity_url}/connect/token", data={**fields, **form}, timeout=5)


def access_token(creatio: EmulatorServer, **form: str) -> str:
    answer = token(creatio, **form)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def bearer(access: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access}", "Accept": "application/json"}


# One call of each endpoint family the gate protects, each with a bearer token and nothing else.
ENDPOINTS: dict[str, Callable[[str, str], requests.Response]] = {
    "odata-read": lambda url, access: requests.get(
        f"{url}/0/odata/Contact({CONTACT_ID})", headers=bearer(access), timeout=5
    ),
    "odata-create": lambda url, access: requests.post(
        f"{url}/0/odata/Contact", json={"Name": "Bearer Ann"}, headers=bearer(access), timeout=5
    ),
    "batch": lambda url, access: requests.post(
        f"{url}/0/odata/$batch",
        json={"requests": [{"id": "1", "method": "GET", "url": "Contact?$top=1"}]},
        headers=bearer(access),
        timeout=5,
    ),
    "execute": lambda url, access: requests.get(
        f"{url}/0/ServiceModel/ProcessEngineService.svc/UsrFullNameProcess/Execute",
        params={"ResultParameterName": "FullName", "UserName": "Ada", "UserSurname": "Lovelace"},
        headers=bearer(access),
        timeout=5,
    ),
    "run-process": lambda url, access: requests.post(
        f"{url}/0/ServiceModel/ProcessEngineService.svc/RunProcess",
        json={
            "schemaName": "UsrFullNameProcess",
            "parameterValues": [{"name": "UserName", "value": "Ada"}, {"name": "UserSurname", "value": "L"}],
            "resultParameterNames": ["FullName"],
        },
        headers=bearer(access),
        timeout=5,
    ),
}


def test_the_client_credentials_grant(creatio: EmulatorServer) -> None:
    answer = token(creatio)

    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert len(body["access_token"]) >= 32
    assert answer.headers["Cache-Control"] == "no-store"
    assert creatio.requests[-1].service == "identity"
    assert creatio.token_request_count == 1


def test_the_identity_server_and_the_site_are_separate(creatio: EmulatorServer) -> None:
    on_site = requests.post(
        f"{creatio.url}/connect/token", data={"grant_type": "client_credentials", **CLIENT}
    )
    on_identity = requests.get(f"{creatio.identity_url}/0/odata/Contact", timeout=5)

    assert creatio.identity_port != creatio.port
    assert on_site.status_code == 404
    assert "No HTTP resource was found" in on_site.json()["Message"]
    assert on_identity.status_code == 404


@pytest.mark.parametrize(("secret", "status"), [("airflow-secret", 200), ("wrong", 401)])
def test_client_secret_basic(creatio: EmulatorServer, secret: str, status: int) -> None:
    """Credentials in an ``Authorization: Basic`` header; a failed Basic authentication is 401 with a challenge."""
    basic = base64.b64encode(f"airflow-client:{secret}".encode()).decode()

    answer = requests.post(
        f"{creatio.identity_url}/connect/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=5,
    )

    assert answer.status_code == status
    if status == 401:
        assert answer.headers["WWW-Authenticate"].startswith("Basic")
        assert answer.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("form", "error", "description"),
    [
        ({"client_secret": "wrong"}, "invalid_client", "unknown client id or wrong client secret"),
        ({"client_id": "someone-else"}, "invalid_client", "unknown client id or wrong client secret"),
        ({"client_id": ""}, "invalid_client", "unknown client id or wrong client secret"),
        ({"grant_type": "password"}, "unsupported_grant_type", "'password'; use client_credentials"),
        ({"grant_type": ""}, "unsupported_grant_type", "missing; use client_credentials"),
    ],
)
def test_refusals_carry_an_error_and_a_description(
    creatio: EmulatorServer, form: dict[str, str], error: str, description: str
) -> None:
    answer = token(creatio, **form)

    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == error
    assert description in body["error_description"]
    assert "wrong" not in body["error_description"].replace("wrong client secret", "")


def test_a_token_request_must_be_form_encoded(creatio: EmulatorServer) -> None:
    answer = requests.post(
        f"{creatio.identity_url}/connect/token",
        json={"grant_type": "client_credentials", **CLIENT},
        timeout=5,
    )

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_a_bearer_token_opens_every_endpoint_without_cookies_or_bpmcsrf(
    creatio: EmulatorServer, endpoint: str
) -> None:
    access = access_token(creatio)

    answer = ENDPOINTS[endpoint](creatio.url, access)

    assert answer.status_code in (200, 201), answer.text
    entry = creatio.requests[-1]
    assert (entry.auth, entry.sent_cookies, entry.sent_csrf) == ("bearer", False, False)
    assert creatio.login_count == 0


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("token_state", ["made-up", "lifetime-over", "expired-now"])
def test_unknown_or_expired_tokens_get_401_everywhere(
    creatio: EmulatorServer, endpoint: str, token_state: str
) -> None:
    access = "made-up-token"
    if token_state == "lifetime-over":
        creatio.settings.token_lifetime = 0
        access = access_token(creatio)
    elif token_state == "expired-now":
        access = access_token(creatio)
        creatio.expire_tokens()

    answer = ENDPOINTS[endpoint](creatio.url, access)

    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert answer.json()["Message"] == "Authentication failed."


def test_expiring_tokens_leaves_cookie_sessions_alone(creatio: EmulatorServer) -> None:
    access = access_token(creatio)
    cookies = login(creatio.url)

    creatio.expire_tokens()

    assert ENDPOINTS["odata-read"](creatio.url, access).status_code == 401
    assert cookies.get(f"{creatio.url}/0/odata/Contact({CONTACT_ID})").status_code == 200


def test_expiring_sessions_expires_tokens_too(creatio: EmulatorServer) -> None:
    access = access_token(creatio)

    creatio.expire_sessions()

    assert ENDPOINTS["odata-read"](creatio.url, access).status_code == 401


def test_a_registered_client_has_its_own_secret_and_lifetime(creatio: EmulatorServer) -> None:
    creatio.register_oauth_client("reporting", "reporting-secret", token_lifetime=120)

    granted = token(creatio, client_id="reporting", client_secret="reporting-secret")
    refused = token(creatio, client_id="reporting", client_secret="airflow-secret")

    assert granted.json()["expires_in"] == 120
    assert refused.json()["error"] == "invalid_client"
    assert ENDPOINTS["odata-read"](creatio.url, granted.json()["access_token"]).status_code == 200


def test_unregistering_a_client_revokes_its_tokens(creatio: EmulatorServer) -> None:
    creatio.register_oauth_client("reporting", "reporting-secret")
    theirs = access_token(creatio, client_id="reporting", client_secret="reporting-secret")
    ours = access_token(creatio)

    assert creatio.state.identity.unregister("reporting") is True

    assert ENDPOINTS["odata-read"](creatio.url, theirs).status_code == 401
    assert ENDPOINTS["odata-read"](creatio.url, ours).status_code == 200
    assert token(creatio, client_id="reporting", client_secret="reporting-secret").status_code == 400


def test_a_reset_forgets_registered_clients_and_tokens(creatio: EmulatorServer) -> None:
    creatio.register_oauth_client("reporting", "reporting-secret")
    access = access_token(creatio)

    creatio.reset()

    assert token(creatio, client_id="reporting", client_secret="reporting-secret").status_code == 400
    assert ENDPOINTS["odata-read"](creatio.url, access).status_code == 401
    assert creatio.token_request_count == 1  # the log starts again too


def test_a_scripted_fault_answers_the_token_request(creatio: EmulatorServer) -> None:
    creatio.script(r"^/connect/token$", [503])

    assert token(creatio).status_code == 503
    assert token(creatio).status_code == 200


def admin(creatio: EmulatorServer, method: str, action: str, body: Any = None) -> requests.Response:
    return requests.request(method, f"{creatio.url}/__emulator__/{action}", json=body, timeout=5)


def test_the_admin_endpoints_register_expire_and_count(creatio: EmulatorServer) -> None:
    registered = admin(
        creatio,
        "POST",
        "oauth-clients",
        {"client_id": "etl", "client_secret": "etl-secret-9f2", "token_lifetime": 60},
    )
    access = access_token(creatio, client_id="etl", client_secret="etl-secret-9f2")
    expired = admin(creatio, "POST", "expire-tokens")
    stats = admin(creatio, "GET", "stats").json()
    removed = admin(creatio, "DELETE", "oauth-clients/etl")
    missing = admin(creatio, "DELETE", "oauth-clients/etl")

    assert registered.json() == {"registered": "etl"}
    assert expired.json() == {"expired": 1}
    assert ENDPOINTS["odata-read"](creatio.url, access).status_code == 401
    assert (stats["tokens_issued"], stats["tokens_live"]) == (1, 0)
    assert removed.json() == {"unregistered": "etl"}
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"client_secret": "never-echoed-7d1"},
        {"client_id": "etl", "client_secret": "never-echoed-7d1", "token_lifetime": -1},
        {"client_id": "", "client_secret": "never-echoed-7d1"},
    ],
)
def test_a_bad_registration_is_refused_without_echoing_the_secret(
    creatio: EmulatorServer, body: dict[str, Any]
) -> None:
    answer = admin(creatio, "POST", "oauth-clients", body)

    assert answer.status_code == 400
    assert "client_id, client_secret" in answer.json()["error"]
    assert "never-echoed-7d1" not in answer.text
