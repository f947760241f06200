"""The wire form of requests and the reading of the cookie jar (no I/O)."""

from __future__ import annotations

import http.cookiejar

from airflow_provider_creatio.client.config import CreatioConfig
from airflow_provider_creatio.client.http import ApiRequest, Idempotency, Service
from airflow_provider_creatio.client.wire import Outgoing, cookies_for_path, merge_headers, outgoing_for

FORMS = CreatioConfig("https://site.example/0", username="Supervisor", password="pa55-word")


def test_outgoing_for_odata_json_body() -> None:
    request = ApiRequest(
        "post",
        Service.ODATA,
        "Contact",
        json_body={"Name": "Ann"},
        idempotency=Idempotency.UNSAFE,
        operation="op",
    )
    outgoing = outgoing_for(FORMS, request)
    assert outgoing.method == "POST"
    assert outgoing.url == "https://site.example/0/odata/Contact"
    assert outgoing.headers == {
        "Accept": "application/json",
        "Content-Type": "application/json; charset=utf-8; IEEE754Compatible=true",
    }
    assert outgoing.content == b'{"Name":"Ann"}'
    assert outgoing.idempotency is Idempotency.UNSAFE


def test_outgoing_for_service_model_query_and_own_headers() -> None:
    request = ApiRequest(
        "GET",
        Service.SERVICE_MODEL,
        "ProcessEngineService.svc/P/Execute",
        (("Name", "a b&c"), ("$top", "1")),
        headers={"accept": "text/xml", "Prefer": "x"},
    )
    core = CreatioConfig("https://site.example", username="u", password="p", net_core=True)
    outgoing = outgoing_for(core, request)
    assert (
        outgoing.url
        == "https://site.example/ServiceModel/ProcessEngineService.svc/P/Execute?Name=a%20b%26c&$top=1"
    )
    assert outgoing.path == "/ServiceModel/ProcessEngineService.svc/P/Execute"
    assert outgoing.headers == {"accept": "text/xml", "Prefer": "x"}
    assert outgoing.content is None


def test_session_headers_win_and_repr_hides_headers_and_body() -> None:
    outgoing = Outgoing("POST", "https://h/x?q=1", {"bpmcsrf": "old"}, b"password").with_headers(
        {"BPMCSRF": "new"}
    )
    assert outgoing.headers == {"BPMCSRF": "new"}
    assert "new" not in repr(outgoing) and "password" not in repr(outgoing)
    assert merge_headers({"A": "1"}, {"a": "2", "B": "3"}) == {"a": "2", "B": "3"}


def _cookie(name: str, value: str, path: str) -> http.cookiejar.Cookie:
    return http.cookiejar.Cookie(
        0,
        name,
        value,
        None,
        False,
        "site.example",
        False,
        False,
        path,
        True,
        False,
        None,
        False,
        None,
        None,
        {},
    )


def test_cookies_for_path_prefers_the_most_specific_path() -> None:
    jar = http.cookiejar.CookieJar()
    jar.set_cookie(_cookie("BPMCSRF", "root", "/"))
    jar.set_cookie(_cookie("BPMCSRF", "odata", "/0/odata"))
    jar.set_cookie(_cookie(".ASPXAUTH", "a", "/"))
    jar.set_cookie(_cookie("Other", "o", "/0/odatax"))
    assert cookies_for_path(jar, "/0/odata/Contact") == {"BPMCSRF": "odata", ".ASPXAUTH": "a"}
    assert cookies_for_path(jar, "/0/ServiceModel/X") == {"BPMCSRF": "root", ".ASPXAUTH": "a"}
