"""Authentication strategies (no I/O: answers are built by hand)."""

from __future__ import annotations

import http.cookiejar
import json
from urllib.parse import parse_qs

import pytest

from airflow_provider_creatio.client.auth import FormsAuth, OAuthAuth, SecretSink, make_auth
from airflow_provider_creatio.client.config import AuthType, CreatioConfig
from airflow_provider_creatio.client.errors import (
    CreatioAuthError,
    CreatioConfigError,
    CreatioResponseError,
    CreatioServerError,
    CreatioTokenError,
)
from airflow_provider_creatio.client.http import ApiResponse

FORMS = CreatioConfig("https://site.example/0", username="Supervisor", password="pa55-word")
OAUTH = CreatioConfig(
    "https://site.creatio.com", auth_type=AuthType.OAUTH, client_id="cid", client_secret="client-secret-1"
)


def json_answer(status: int, body: object, path: str = "/ServiceModel/AuthService.svc/Login") -> ApiResponse:
    return ApiResponse(status, {"content-type": "application/json"}, json.dumps(body).encode(), "POST", path)


def forms(secrets: list[str] | None = None) -> FormsAuth:
    auth = make_auth(FORMS, SecretSink(secrets.append if secrets is not None else None))
    assert isinstance(auth, FormsAuth)
    return auth


def oauth(secrets: list[str] | None = None) -> OAuthAuth:
    auth = make_auth(OAUTH, SecretSink(secrets.append if secrets is not None else None))
    assert isinstance(auth, OAuthAuth)
    return auth


def test_forms_login_request_is_at_the_site_root_in_both_layouts() -> None:
    request = forms().login_request()
    assert request.method == "POST"
    assert request.url == "https://site.example/ServiceModel/AuthService.svc/Login"
    assert json.loads(request.content or b"") == {"UserName": "Supervisor", "UserPassword": "pa55-word"}
    core = FormsAuth(
        CreatioConfig("https://site.example", username="u", password="p", net_core=True), SecretSink(None)
    )
    assert core.login_request().url == "https://site.example/ServiceModel/AuthService.svc/Login"
    assert core.logout_request() is not None
    assert core.logout_request().url == "https://site.example/ServiceModel/AuthService.svc/Logout"  # type: ignore[union-attr]


def test_forms_login_success_opens_a_new_generation() -> None:
    auth = forms()
    assert not auth.is_current(0.0)
    auth.accept_login(json_answer(200, {"Code": 0, "Message": "", "Exception": None}), 0.0)
    assert auth.is_current(0.0)
    assert auth.generation == 1
    auth.forget()
    assert not auth.is_current(0.0)


def test_forms_login_code_1_is_an_auth_error_with_creatios_message() -> None:
    auth = forms()
    with pytest.raises(CreatioAuthError) as caught:
        auth.accept_login(json_answer(200, {"Code": 1, "Message": "Invalid username or password"}), 0.0)
    assert caught.value.server_message == "Invalid username or password"
    assert "Invalid username or password" in str(caught.value)
    assert "pa55-word" not in str(caught.value)
    assert not auth.is_current(0.0)
    assert auth.generation == 0


@pytest.mark.parametrize(
    ("response", "error_class"),
    [
        (json_answer(401, {"Message": "Authentication failed."}), CreatioAuthError),
        (json_answer(503, {"Message": "busy"}), CreatioServerError),
        (
            ApiResponse(200, {"content-type": "text/html"}, b"<html></html>", "POST", "/x"),
            CreatioResponseError,
        ),
        (json_answer(200, {"Message": "no code"}), CreatioAuthError),
    ],
)
def test_forms_login_other_failures(response: ApiResponse, error_class: type[Exception]) -> None:
    with pytest.raises(error_class):
        forms().accept_login(response, 0.0)


def test_forms_headers_carry_the_current_csrf_and_force_use_session() -> None:
    auth = forms()
    assert auth.headers({"BPMCSRF": "c1", ".ASPXAUTH": "a"}) == {"ForceUseSession": "true", "BPMCSRF": "c1"}
    assert auth.headers({}) == {"ForceUseSession": "true"}


def test_every_secret_reaches_the_sink_once_and_the_user_name_does_not() -> None:
    seen: list[str] = []
    auth = forms(seen)
    assert seen == [], "building a strategy calls out to nothing (the shared async client relies on it)"
    auth.login_request()
    auth.note_cookies(
        [("BPMCSRF", "csrf1"), (".ASPXAUTH", "aspx"), ("UserName", "Supervisor"), ("BPMLOADER", "l")]
    )
    auth.note_cookies([("BPMCSRF", "csrf1"), ("BPMCSRF", "csrf2")])
    assert seen == ["pa55-word", "csrf1", "aspx", "l", "csrf2"]


def test_oauth_token_request_and_bearer_header() -> None:
    seen: list[str] = []
    auth = oauth(seen)
    request = auth.login_request()
    assert request.url == "https://site-is.creatio.com/connect/token"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs((request.content or b"").decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": ["cid"],
        "client_secret": ["client-secret-1"],
    }
    auth.accept_login(
        json_answer(200, {"access_token": "tok-1", "expires_in": 3600, "token_type": "Bearer"}), 100.0
    )
    assert auth.headers({"BPMCSRF": "ignored"}) == {"Authorization": "Bearer tok-1"}
    assert seen == ["client-secret-1", "tok-1"]


def test_oauth_token_is_renewed_shortly_before_it_expires() -> None:
    auth = oauth()
    auth.accept_login(json_answer(200, {"access_token": "t", "expires_in": 3600}), 1000.0)
    assert auth.is_current(1000.0 + 3500)
    assert not auth.is_current(1000.0 + 3545)
    auth.accept_login(json_answer(200, {"access_token": "t", "expires_in": 30}), 0.0)
    assert auth.is_current(26.0)
    assert not auth.is_current(27.5)
    auth.accept_login(json_answer(200, {"access_token": "t"}), 0.0)  # no expires_in: the 3600 s default
    assert auth.is_current(3500.0)


def test_oauth_refusal_and_missing_token() -> None:
    with pytest.raises(CreatioAuthError) as caught:
        oauth().accept_login(json_answer(400, {"error": "invalid_client"}, "/connect/token"), 0.0)
    assert isinstance(caught.value, CreatioTokenError)
    assert (caught.value.error, caught.value.error_description) == ("invalid_client", None)
    assert caught.value.server_message == "invalid_client"
    assert str(caught.value).endswith("Identity server says: invalid_client")
    with pytest.raises(CreatioResponseError):
        oauth().accept_login(json_answer(200, {"token_type": "Bearer"}, "/connect/token"), 0.0)


def test_oauth_jar_takes_no_cookie() -> None:
    policy = oauth().cookie_policy()
    assert isinstance(policy, http.cookiejar.DefaultCookiePolicy)
    assert policy.is_not_allowed("site.creatio.com")
    assert not forms().cookie_policy().is_not_allowed("site.example")  # type: ignore[attr-defined]


def test_an_oauth_refusal_carries_the_error_and_its_description() -> None:
    answer = {"error": "unauthorized_client", "error_description": "The client may not use\nthis grant."}
    with pytest.raises(CreatioTokenError) as caught:
        oauth().accept_login(json_answer(401, answer, "/connect/token"), 0.0)
    assert caught.value.error == "unauthorized_client"
    assert caught.value.error_description == "The client may not use this grant."  # one line
    assert caught.value.status == 401
    assert str(caught.value) == (
        "get an OAuth token: the identity server refused the token request [HTTP 401 POST /connect/token] "
        "Identity server says: unauthorized_client - The client may not use this grant."
    )


def test_a_failing_identity_server_is_a_server_error_not_a_refusal() -> None:
    with pytest.raises(CreatioServerError) as caught:
        oauth().accept_login(json_answer(503, {"Message": "Service Unavailable"}, "/connect/token"), 0.0)
    assert not isinstance(caught.value, CreatioAuthError)
    assert caught.value.operation == "get an OAuth token"


@pytest.mark.parametrize(
    ("status", "forms_expired", "oauth_expired"),
    [(401, True, True), (302, True, True), (403, True, False), (404, False, False)],
)
def test_what_counts_as_an_expired_session(status: int, forms_expired: bool, oauth_expired: bool) -> None:
    """A 403 is a stale BPMCSRF for cookie sessions (log in again), but a permission refusal for a bearer token
    (a new token for the same client changes nothing)."""
    answer = json_answer(status, {"Message": "x"}, "/0/odata/Contact")
    assert forms().session_expired(answer) is forms_expired
    assert oauth().session_expired(answer) is oauth_expired


@pytest.mark.parametrize(
    ("identity", "token_url"),
    [
        ("https://id.example.com", "https://id.example.com/connect/token"),
        ("https://id.example.com/", "https://id.example.com/connect/token"),
        ("https://id.example.com/connect/token", "https://id.example.com/connect/token"),
        (" https://crm.example.com/identity/ ", "https://crm.example.com/identity/connect/token"),
        ("http://localhost:8766", "http://localhost:8766/connect/token"),
    ],
)
def test_the_token_endpoint_comes_from_the_identity_server_url(identity: str, token_url: str) -> None:
    config = CreatioConfig(
        "https://crm.example.com",
        auth_type=AuthType.OAUTH,
        client_id="cid",
        client_secret="s",
        identity_server_url=identity,
    )
    assert config.token_url == token_url


def test_a_creatio_cloud_site_derives_its_identity_server() -> None:
    cloud = CreatioConfig(
        "https://acme-dev.creatio.com:8443/0", auth_type=AuthType.OAUTH, client_id="c", client_secret="s"
    )
    assert cloud.token_url == "https://acme-dev-is.creatio.com:8443/connect/token"


@pytest.mark.parametrize(
    ("identity", "message"),
    [
        ("http://id.example.com", "would send the client secret and tokens in clear text"),
        ("id.example.com", "must start with https:// or http://"),
        ("https://client:hunter2@id.example.com", "must not contain a user name or password"),
    ],
)
def test_an_unsafe_identity_server_url_is_refused(identity: str, message: str) -> None:
    with pytest.raises(CreatioConfigError, match=message) as caught:
        CreatioConfig(
            "https://crm.example.com",
            auth_type=AuthType.OAUTH,
            client_id="cid",
            client_secret="s",
            identity_server_url=identity,
        )
    assert "hunter2" not in str(caught.value)


def test_oauth_outside_creatio_cloud_needs_the_identity_server_at_once() -> None:
    with pytest.raises(CreatioConfigError, match="identity server URL"):
        CreatioConfig("https://crm.example.com", auth_type=AuthType.OAUTH, client_id="c", client_secret="s")
