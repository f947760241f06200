"""Plain-``requests`` helpers shared by the emulator tests (never the provider's client)."""

from __future__ import annotations

import requests

LOGIN = "/ServiceModel/AuthService.svc/Login"
JSON_HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/json; charset=utf-8; IEEE754Compatible=true",
}


def login(base_url: str, username: str = "Supervisor", password: str = "Supervisor") -> requests.Session:
    """A requests session logged in with cookies, sending BPMCSRF and ForceUseSession on every call."""
    session = requests.Session()
    answer = session.post(f"{base_url}{LOGIN}", json={"UserName": username, "UserPassword": password})
    assert answer.status_code == 200
    assert answer.json()["Code"] == 0
    session.headers.update({"BPMCSRF": session.cookies["BPMCSRF"], "ForceUseSession": "true", **JSON_HEADERS})
    return session
