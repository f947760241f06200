"""Reading Creatio's answers: session expiry, status classification, error shapes and JSON bodies."""

from __future__ import annotations

import json

import pytest

from airflow_provider_creatio.client.errors import (
    CreatioAuthError,
    CreatioBadRequestError,
    CreatioConflictError,
    CreatioError,
    CreatioMemoryLimitError,
    CreatioNotFoundError,
    CreatioOutcomeUnknownError,
    CreatioRateLimitError,
    CreatioResponseError,
    CreatioServerError,
)
from airflow_provider_creatio.client.http import ApiRequest, ApiResponse, Call, Idempotency, Service
from airflow_provider_creatio.client.responses import (
    decode_json,
    error_for_response,
    finish,
    is_session_expired,
    raise_for_response,
    server_message,
    session_rejected,
)

JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"


def answer(status: int, body: object = b"", content_type: str = JSON, **headers: str) -> ApiResponse:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ApiResponse(
        status,
        {"content-type": content_type, **{k.replace("_", "-"): v for k, v in headers.items()}},
        content,
        method="GET",
        path="/0/odata/Contact",
    )


def call(accept: frozenset[int] = frozenset(), idempotency: Idempotency = Idempotency.SAFE) -> Call[str]:
    request = ApiRequest(
        "GET", Service.ODATA, "Contact", (("$top", "1"),), idempotency=idempotency, operation="read Contact"
    )
    return Call(request, lambda response: response.text, accept)


@pytest.mark.parametrize(
    ("response", "expired"),
    [
        (answer(401, {"Message": "Authentication failed.", "StackTrace": None, "ExceptionType": "X"}), True),
        (answer(403, b""), True),
        (answer(302, b"", location="/Login/NuiLogin.aspx"), True),
        (answer(301, b"", location="/Login/Login.html"), True),
        (answer(307, b""), True),
        (answer(200, b"<html><title>Creatio</title></html>", HTML), True),
        (answer(200, {"value": []}), False),
        (answer(204, b"", ""), False),
        (answer(404, {"error": {"code": "", "message": "x"}}), False),
        (answer(500, b"<html>oops</html>", HTML), False),
        (answer(503, b""), False),
        (answer(200, b"<string>1</string>", "text/xml"), False),
    ],
)
def test_session_expiry_forms(response: ApiResponse, expired: bool) -> None:
    assert is_session_expired(response) is expired
    assert session_rejected(call(), response) is expired


def test_an_accepted_status_is_no_expiry_but_the_login_page_always_is() -> None:
    assert not session_rejected(call(frozenset({403})), answer(403, b""))
    assert session_rejected(call(frozenset({200})), answer(200, b"<html></html>", HTML))


@pytest.mark.parametrize(
    ("response", "error_class"),
    [
        (
            answer(
                400, {"error": {"code": "", "message": "Column by path Foo not found in schema Contact."}}
            ),
            CreatioBadRequestError,
        ),
        (answer(401, {"Message": "Authentication failed."}), CreatioAuthError),
        (answer(403, b""), CreatioAuthError),
        (answer(302, b""), CreatioAuthError),
        (answer(200, b"<html></html>", HTML), CreatioAuthError),
        (answer(404, {"Message": "No HTTP resource", "MessageDetail": "No type"}), CreatioNotFoundError),
        (
            answer(409, {"error": {"code": "", "message": "A record with Id 'x' already exists."}}),
            CreatioConflictError,
        ),
        (answer(412, b""), CreatioConflictError),
        (answer(429, b""), CreatioRateLimitError),
        (
            answer(
                500,
                {
                    "Message": 'Item with name "Nope" not found.',
                    "ExceptionType": "Terrasoft.Common.ItemNotFoundException",
                    "StackTrace": None,
                },
            ),
            CreatioNotFoundError,
        ),
        (
            answer(
                500,
                {
                    "error": {
                        "code": "",
                        "message": "failed",
                        "innererror": {"type": "Terrasoft.Common.ItemNotFoundException"},
                    }
                },
            ),
            CreatioNotFoundError,
        ),
        (
            answer(
                500,
                {
                    "Message": "Violation of PRIMARY KEY constraint 'PK_Contact'. Cannot insert duplicate key "
                    "in object 'dbo.Contact'.",
                    "ExceptionType": "System.Data.SqlClient.SqlException",
                },
            ),
            CreatioConflictError,
        ),
        (
            answer(
                500, {"error": {"code": "", "message": 'duplicate key value violates unique constraint "pk"'}}
            ),
            CreatioConflictError,
        ),
        (
            answer(
                500, {"Message": "Object reference not set", "ExceptionType": "System.NullReferenceException"}
            ),
            CreatioServerError,
        ),
        (
            answer(
                500,
                {
                    "error": {
                        "code": "",
                        "message": "Request processing terminated because it reached the RAM consumption limit "
                        "of 6 MB.",
                    }
                },
            ),
            CreatioMemoryLimitError,
        ),
        # A foreign key refusal is not a conflict: the record was not there before, it cannot be written at all.
        (
            answer(
                500,
                {
                    "error": {
                        "code": "",
                        "message": "Terrasoft.Common.DbOperationException: The INSERT statement conflicted with "
                        'the FOREIGN KEY constraint "FKabc". The conflict occurred in database "Creatio", table '
                        "\"dbo.Account\", column 'Id'.",
                    }
                },
            ),
            CreatioServerError,
        ),
        (
            answer(
                500,
                {
                    "error": {
                        "code": "",
                        "message": "Terrasoft.Common.DbOperationException: 23503: update or delete on table "
                        '"Account" violates foreign key constraint "FKabc" on table "Contact"',
                    }
                },
            ),
            CreatioServerError,
        ),
        (answer(502, b""), CreatioServerError),
        (answer(503, b""), CreatioServerError),
        (answer(504, b""), CreatioServerError),
        (answer(405, b""), CreatioError),
    ],
)
def test_status_to_exception(response: ApiResponse, error_class: type[CreatioError]) -> None:
    with pytest.raises(CreatioError) as caught:
        raise_for_response(call(), response)
    assert type(caught.value) is error_class
    assert caught.value.status == response.status
    assert caught.value.operation == "read Contact"
    assert caught.value.method == "GET"
    assert caught.value.path == "/0/odata/Contact"


@pytest.mark.parametrize("status", [502, 504])
def test_a_gateway_error_on_an_unsafe_call_means_the_outcome_is_unknown(status: int) -> None:
    with pytest.raises(CreatioOutcomeUnknownError):
        raise_for_response(call(idempotency=Idempotency.UNSAFE), answer(status, b""))


def test_an_unsafe_call_answered_500_is_a_plain_server_error() -> None:
    with pytest.raises(CreatioServerError) as caught:
        raise_for_response(call(idempotency=Idempotency.UNSAFE), answer(500, b""))
    assert not isinstance(caught.value, CreatioOutcomeUnknownError)


def test_success_and_accepted_statuses_pass() -> None:
    raise_for_response(call(), answer(200, {"value": []}))
    raise_for_response(call(), answer(204, b"", ""))
    raise_for_response(call(frozenset({404})), answer(404, b""))
    assert finish(call(frozenset({404})), answer(404, b"gone", "text/plain")) == "gone"


def test_a_bare_request_accepts_nothing_but_2xx() -> None:
    with pytest.raises(CreatioNotFoundError):
        raise_for_response(call().request, answer(404, b""))


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (
            {"error": {"code": "", "message": "Column by path Foo not found in schema Contact."}},
            JSON,
            "Column by path Foo not found in schema Contact.",
        ),
        ({"error": {"code": "", "message": {"lang": "en-US", "value": "v3 style"}}}, JSON, "v3 style"),
        (
            {"error": {"code": "E1", "message": "", "innererror": {"message": "inner words"}}},
            JSON,
            "inner words",
        ),
        (
            {
                "Message": 'Item with name "X" not found.',
                "ExceptionType": "Terrasoft.Common.ItemNotFoundException",
                "StackTrace": "   at Terrasoft...",
            },
            JSON,
            'Item with name "X" not found.',
        ),
        (
            {
                "Message": "An error has occurred.",
                "ExceptionMessage": "the real reason",
                "ExceptionType": "X",
            },
            JSON,
            "the real reason",
        ),
        (
            {
                "Message": "No HTTP resource was found that matches the request URI 'http://h/0/odata/Nope'.",
                "MessageDetail": "No type was found that matches the controller named 'Nope'.",
            },
            JSON,
            "No HTTP resource was found that matches the request URI 'http://h/0/odata/Nope'. "
            "No type was found that matches the controller named 'Nope'.",
        ),
        ({"error": "invalid_client", "error_description": "client unknown"}, JSON, "client unknown"),
        ({"error": "invalid_client"}, JSON, "invalid_client"),
        (b"Service Unavailable", "text/plain", "Service Unavailable"),
        (b"<html><head><title>503 - Busy</title></head><body>long page</body></html>", HTML, "503 - Busy"),
        (b"", JSON, None),
        ({"value": []}, JSON, None),
    ],
)
def test_server_message_from_every_shape(body: object, content_type: str, message: str | None) -> None:
    assert server_message(answer(500, body, content_type)) == message


def test_server_message_drops_query_strings_and_stays_short() -> None:
    quoted = {"Message": "No HTTP resource matches 'https://h/0/ServiceModel/P.svc/X/Execute?Secret=1&b=2'."}
    assert (
        server_message(answer(404, quoted))
        == "No HTTP resource matches 'https://h/0/ServiceModel/P.svc/X/Execute'."
    )
    long_text = answer(500, ("word " * 500).encode(), "text/plain")
    assert len(server_message(long_text) or "") <= 500


def test_error_text_names_operation_status_path_and_server_words_but_no_query() -> None:
    error = error_for_response(
        answer(404, {"error": {"code": "", "message": "Contact not there"}}), operation="read Contact"
    )
    text = str(error)
    assert text.startswith("read Contact: not found")
    assert "HTTP 404 GET /0/odata/Contact" in text
    assert "Creatio says: Contact not there" in text
    assert "$top" not in text


def test_exhausted_retries_are_counted_in_the_message() -> None:
    error = error_for_response(answer(503, b"busy", "text/plain"), attempts=4)
    assert isinstance(error, CreatioServerError)
    assert "after 4 attempts" in str(error)
    assert error.server_message == "busy"


def test_decode_json_reads_json() -> None:
    assert decode_json(answer(200, {"a": [1, 2]})) == {"a": [1, 2]}
    assert decode_json(answer(200, b"[1]", "application/problem+json")) == [1]
    assert decode_json(answer(200, b"3", "")) == 3


@pytest.mark.parametrize(
    ("content", "content_type", "problem"),
    [
        (b'{"value": [{"Id": "1"', JSON, "invalid or truncated JSON"),
        (b"<html><body>Login</body></html>", HTML, "HTML page where JSON was expected"),
        (b"<string>x</string>", "text/xml", "'text/xml' where JSON was expected"),
        (b"   ", JSON, "empty body"),
        (b"\xff\xfe{", JSON, "invalid or truncated JSON"),
    ],
)
def test_decode_json_refuses_what_is_not_json(content: bytes, content_type: str, problem: str) -> None:
    with pytest.raises(CreatioResponseError) as caught:
        decode_json(answer(200, content, content_type), operation="read Contact")
    assert problem in str(caught.value)
    assert caught.value.operation == "read Contact"


def test_decode_json_quotes_only_a_short_excerpt() -> None:
    body = b"<html>" + b"x" * 5000 + b"</html>"
    with pytest.raises(CreatioResponseError) as caught:
        decode_json(answer(200, body, HTML))
    assert len(str(caught.value)) < 250
