"""Test Connection through the REST endpoint the UI's Test button calls (``POST /api/v2/connections/test``), run
by the api-server process: a good and a wrong password, a good and a wrong OAuth client secret."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import CLIENT_SECRET, PASSWORD, Deployment
from issued_secrets import leaks


def body(deployment: Deployment, auth_type: str, secret: str) -> dict[str, Any]:
    creatio = deployment.creatio
    settings = creatio.settings
    if auth_type == "oauth":
        extra = {
            "auth_type": "oauth",
            "client_id": settings.oauth_client_id,
            "client_secret": secret,
            "identity_server_url": creatio.identity_url,
        }
        return {
            "connection_id": "creatio_test",
            "conn_type": "creatio",
            "host": creatio.url,
            "extra": json.dumps(extra),
        }
    return {
        "connection_id": "creatio_test",
        "conn_type": "creatio",
        "host": creatio.url,
        "login": settings.username,
        "password": secret,
    }


@pytest.mark.parametrize(
    ("auth_type", "secret", "ok", "words"),
    [
        ("forms", PASSWORD, True, "login and an OData read succeeded"),
        ("forms", "Wrong-Pw-19d0e2-never-log-me", False, "login failed"),
        ("oauth", CLIENT_SECRET, True, "an OAuth token and an OData read succeeded"),
        ("oauth", "Wrong-Cs-5b7c1a-never-log-me", False, "invalid_client"),
    ],
    ids=["forms", "forms-wrong-password", "oauth", "oauth-wrong-secret"],
)
def test_the_rest_test_endpoint_tests_a_creatio_connection(
    deployment: Deployment, auth_type: str, secret: str, ok: bool, words: str
) -> None:
    answer = deployment.airflow.api("POST", "/api/v2/connections/test", body(deployment, auth_type, secret))
    assert answer["status"] is ok, answer
    assert words in answer["message"]
    assert not leaks(answer["message"], deployment.secrets() | {secret})


def test_the_test_button_names_an_extra_the_provider_does_not_read(deployment: Deployment) -> None:
    """A typo in an extra would otherwise be ignored in silence: the test still runs, and its message names it."""
    connection = body(deployment, "forms", PASSWORD)
    connection["extra"] = json.dumps({"netcore": False})

    answer = deployment.airflow.api("POST", "/api/v2/connections/test", connection)

    assert answer["status"] is True, answer
    assert "connection extra 'netcore' is not one the Creatio provider reads" in answer["message"]
    assert "did you mean 'net_core'?" in answer["message"]
