"""Scripted faults, the request log and counters, reset, and the same controls over the admin endpoints."""

from __future__ import annotations

import pytest
import requests
from emulator_helpers import LOGIN, login

from airflow_provider_creatio.testing.emulator import EmulatorServer
from airflow_provider_creatio.testing.emulator.log import utc_day

CONTACT = "/0/odata/Contact(12d21632-8b20-45d9-942f-20fcbbf2957c)"
API_ACCOUNT = "e6574af1-3e92-4099-958e-e798f52ee016"


def test_scripted_statuses_answer_the_next_matching_requests_in_order(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    creatio.script(r"/odata/Contact\(", [503, 500])

    statuses = [api.get(f"{creatio.url}{CONTACT}").status_code for _ in range(3)]

    assert statuses == [503, 500, 200]
    assert api.get(f"{creatio.url}/0/odata/Account").status_code == 200


def test_fault_bodies_are_json_and_retry_after_is_sent(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    creatio.script("Contact", [429], retry_after=0.05)

    answer = api.get(f"{creatio.url}{CONTACT}")

    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "0.05"
    assert set(answer.json()) == {"Message", "ExceptionType", "StackTrace"}


def test_a_scripted_302_points_at_the_login_page(creatio: EmulatorServer, api: requests.Session) -> None:
    creatio.script("Contact", [302])

    answer = api.get(f"{creatio.url}{CONTACT}", allow_redirects=False)

    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/Login/NuiLogin.aspx")


def test_a_script_can_be_limited_to_one_method(creatio: EmulatorServer, api: requests.Session) -> None:
    creatio.script("Contact", [500], method="PATCH")

    assert api.get(f"{creatio.url}{CONTACT}").status_code == 200
    assert api.patch(f"{creatio.url}{CONTACT}", json={"JobTitle": "x"}).status_code == 500
    assert api.patch(f"{creatio.url}{CONTACT}", json={"JobTitle": "x"}).status_code == 204


def test_faults_come_before_authentication_and_can_hit_the_login(creatio: EmulatorServer) -> None:
    creatio.script("AuthService.svc/Login", [503])
    credentials = {"UserName": "Supervisor", "UserPassword": "Supervisor"}

    assert requests.post(f"{creatio.url}{LOGIN}", json=credentials).status_code == 503
    assert requests.post(f"{creatio.url}{LOGIN}", json=credentials).json()["Code"] == 0
    assert creatio.login_count == 1


@pytest.mark.parametrize("statuses", [[], [200], [99], [600]])
def test_scripts_need_error_statuses(creatio: EmulatorServer, statuses: list[int]) -> None:
    with pytest.raises(ValueError):
        creatio.script("Contact", statuses)


def test_the_request_log_records_method_path_status_and_credential(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    api.get(f"{creatio.url}{CONTACT}", params={"$select": "Name"})
    requests.get(f"{creatio.url}{CONTACT}")

    entries = creatio.requests
    assert [(e.method, e.path, e.status, e.auth) for e in entries] == [
        ("POST", LOGIN, 200, "none"),
        ("GET", CONTACT, 200, "cookie"),
        ("GET", CONTACT, 401, "none"),
    ]
    assert entries[1].query == "%24select=Name"
    assert entries[0].timestamp <= entries[2].timestamp
    assert creatio.count() == 3
    assert creatio.count("get") == 2
    assert creatio.count(path_contains="odata/Contact") == 2
    assert creatio.count("POST", "Contact") == 0


def test_reset_restores_the_seed_and_forgets_sessions_and_log(
    creatio: EmulatorServer, api: requests.Session
) -> None:
    api.delete(f"{creatio.url}{CONTACT}")
    creatio.script("Account", [500])
    assert creatio.store.get("Contact", "12d21632-8b20-45d9-942f-20fcbbf2957c") is None

    creatio.reset()

    assert creatio.store.get("Contact", "12d21632-8b20-45d9-942f-20fcbbf2957c") is not None
    assert creatio.requests == []
    assert creatio.login_count == 0
    assert api.get(f"{creatio.url}{CONTACT}").status_code == 401
    fresh = login(creatio.url)
    assert fresh.get(f"{creatio.url}/0/odata/Account").status_code == 200


def test_ids_are_reproducible_for_a_seed(creatio: EmulatorServer) -> None:
    first = creatio.store.insert("Account", {"Name": "A"})["Id"]
    creatio.reset()
    again = creatio.store.insert("Account", {"Name": "A"})["Id"]
    creatio.settings.seed = 7
    creatio.reset()
    other = creatio.store.insert("Account", {"Name": "A"})["Id"]

    assert first == again
    assert other != first


# -- the same over HTTP ----------------------------------------------------------------------------------------


def admin(creatio: EmulatorServer, name: str) -> str:
    return f"{creatio.url}/__emulator__/{name}"


def test_admin_requests_and_stats(creatio: EmulatorServer, api: requests.Session) -> None:
    api.get(f"{creatio.url}{CONTACT}")

    log = requests.get(admin(creatio, "requests")).json()
    stats = requests.get(admin(creatio, "stats")).json()

    assert [(entry["method"], entry["path"], entry["status"]) for entry in log] == [
        ("POST", LOGIN, 200),
        ("GET", CONTACT, 200),
    ]
    fields = {
        "method",
        "path",
        "query",
        "status",
        "timestamp",
        "auth",
        "service",
        "sent_cookies",
        "sent_csrf",
        "agent",
        "rows_read",
        "user",
        "api_calls",
    }
    assert set(log[0]) == fields
    assert log[0]["agent"] == "python-requests"
    assert (log[1]["auth"], log[1]["sent_cookies"], log[1]["sent_csrf"]) == ("cookie", True, True)
    assert (log[0]["rows_read"], log[1]["rows_read"]) == (0, 0)  # only lists and counts are costed
    assert [(entry["user"], entry["api_calls"]) for entry in log] == [("", 0), ("Supervisor", 1)]
    today = log[1]["timestamp"]
    assert stats == {
        "logins": 1,
        "requests": 2,
        "per_path": {LOGIN: 1, CONTACT: 1},
        "rows_read": 0,
        "api_calls": {"Supervisor": {utc_day(today): 1}},
        "sessions": 1,
        "tokens_issued": 0,
        "tokens_live": 0,
        "server": {
            "work_seconds": 0.0,
            "queued": 0,
            "queue_seconds": 0.0,
            "max_queue_seconds": 0.0,
            "peak_concurrency": 1,
            "peak_session_concurrency": 1,
        },
        "files": {"stored": 0, "bytes": 0, "on_disk": 0, "uploads_in_progress": 0},
    }
    assert creatio.count() == 2  # admin calls are not logged


def test_admin_settings_patch_changes_behaviour(creatio: EmulatorServer, api: requests.Session) -> None:
    answer = requests.post(admin(creatio, "settings"), json={"net_core": True, "expiry_form": "302"})

    assert answer.status_code == 200
    assert answer.json()["net_core"] is True
    assert "password" not in answer.json()
    assert "oauth_client_secret" not in answer.json()
    assert creatio.settings.net_core is True
    assert api.get(f"{creatio.url}/odata/Account").status_code == 200
    assert requests.get(f"{creatio.url}/odata/Account", allow_redirects=False).status_code == 302
    assert requests.get(admin(creatio, "settings")).json()["expiry_form"] == "302"


@pytest.mark.parametrize(
    "patch",
    [
        {"net_core": "yes"},
        {"expiry_form": "500"},
        {"max_page_size": 0},
        {"no_such": 1},
        {"session_lifetime": -1},
    ],
)
def test_admin_settings_refuses_bad_values_and_changes_nothing(
    creatio: EmulatorServer, patch: dict[str, object]
) -> None:
    answer = requests.post(admin(creatio, "settings"), json={"username": "Changed", **patch})

    assert answer.status_code == 400
    assert creatio.settings.username == "Supervisor"


def test_admin_script_reset_and_expire_sessions(creatio: EmulatorServer, api: requests.Session) -> None:
    scripted = requests.post(
        admin(creatio, "script"), json={"path_regex": "Account", "statuses": [502], "method": "GET"}
    )
    assert scripted.status_code == 200
    assert api.get(f"{creatio.url}/0/odata/Account").status_code == 502

    assert requests.post(admin(creatio, "expire-sessions")).status_code == 200
    assert api.get(f"{creatio.url}/0/odata/Account").status_code == 401

    api.post(f"{creatio.url}/0/odata/Account", json={"Name": "Temporary"})
    assert requests.post(admin(creatio, "reset")).status_code == 200
    assert requests.get(admin(creatio, "stats")).json()["requests"] == 0


@pytest.mark.parametrize(
    "body",
    [{"statuses": [500]}, {"path_regex": "x", "statuses": [200]}, {"path_regex": "(", "statuses": [500]}],
)
def test_admin_script_refuses_bad_scripts(creatio: EmulatorServer, body: dict[str, object]) -> None:
    assert requests.post(admin(creatio, "script"), json=body).status_code == 400


def test_admin_records_are_stored_in_order_until_one_is_refused(creatio: EmulatorServer) -> None:
    records = [{"Name": f"Seeded {n}"} for n in range(3)]
    answer = requests.post(admin(creatio, "records"), json={"entity": "Account", "records": records})
    assert answer.json() == {"inserted": 3}
    names = {row["Name"] for row in creatio.store.rows("Account")}
    assert {"Seeded 0", "Seeded 1", "Seeded 2"} <= names

    before = creatio.store.count("Account")
    bad = [{"Name": "kept"}, {"NoSuchColumn": 1}, {"Name": "never"}]
    refused = requests.post(admin(creatio, "records"), json={"entity": "Account", "records": bad})
    assert refused.status_code == 400 and "NoSuchColumn" in refused.json()["error"]
    assert creatio.store.count("Account") == before + 1
    for body in (
        {"entity": "Account"},
        {"entity": "Account", "records": ["x"]},
        {"entity": "Nope", "records": [{}]},
    ):
        assert requests.post(admin(creatio, "records"), json=body).status_code == 400
    assert not creatio.requests  # admin calls are never logged


def test_custom_entities_from_settings_appear_after_a_reset(creatio: EmulatorServer) -> None:
    patch = {"custom_entities": {"UsrInvoice": {"Amount": "float", "Account": "lookup:Account"}}}
    assert requests.post(admin(creatio, "settings"), json=patch).status_code == 200
    assert requests.post(admin(creatio, "reset")).status_code == 200
    api = login(creatio.url)

    created = api.post(f"{creatio.url}/0/odata/UsrInvoice", json={"Amount": 12.5, "AccountId": API_ACCOUNT})
    found = api.get(f"{creatio.url}/0/odata/UsrInvoice", params={"$filter": "Account/Name eq 'API 1'"})

    assert created.status_code == 201
    assert [row["Amount"] for row in found.json()["value"]] == [12.5]


@pytest.mark.parametrize("spec", ["money", "lookup", "text:Account"])
def test_custom_entity_column_kinds_are_checked(creatio: EmulatorServer, spec: str) -> None:
    answer = requests.post(admin(creatio, "settings"), json={"custom_entities": {"UsrBad": {"X": spec}}})

    assert answer.status_code == 400
    assert creatio.settings.custom_entities == {}
