"""OData request builders and answer parsers of client/odata.py."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import random
import re
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import pytest

from airflow_provider_creatio.client import odata
from airflow_provider_creatio.client.errors import CreatioResponseError, CreatioValidationError
from airflow_provider_creatio.client.http import ApiResponse, Idempotency, Service, encode_query
from airflow_provider_creatio.client.responses import decode_json

GUID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
OTHER = "e6574af1-3e92-4099-958e-e798f52ee016"


def answer(body: object = b"", status: int = 200, content_type: str = "application/json") -> ApiResponse:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"content-type": content_type} if content_type else {}
    return ApiResponse(status, headers, content, method="GET", path="/0/odata/Contact")


# --- $filter ----------------------------------------------------------------------------------------------------

FILTER_CASES = [
    ({"Name": "Bob"}, "Name eq 'Bob'", "string"),
    ({"Name": "O'Brien"}, "Name eq 'O''Brien'", "inner-quote-doubled"),
    ({"Name": "''"}, "Name eq ''''''", "only-quotes"),
    ({"Name": ""}, "Name eq ''", "empty-string"),
    ({"Status/Id": GUID.upper()}, f"Status/Id eq {GUID}", "guid-string-unquoted-lowercase"),
    ({"Status/Id": "{" + GUID + "}"}, f"Status/Id eq {GUID}", "guid-with-braces"),
    ({"Status/Id": uuid.UUID(GUID)}, f"Status/Id eq {GUID}", "uuid-object"),
    ({"Age": 19}, "Age eq 19", "int"),
    ({"Age": -3}, "Age eq -3", "negative-int"),
    ({"Score": 2.5}, "Score eq 2.5", "float"),
    ({"Score": 1e-05}, "Score eq 0.00001", "float-without-exponent"),
    ({"Amount": decimal.Decimal("10.50")}, "Amount eq 10.50", "decimal"),
    ({"DoNotUseEmail": True}, "DoNotUseEmail eq true", "true"),
    ({"DoNotUseEmail": False}, "DoNotUseEmail eq false", "false"),
    ({"Owner": None}, "Owner eq null", "null"),
    ({"Owner__ne": None}, "Owner ne null", "not-null"),
    (
        {"ModifiedOn__ge": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)},
        "ModifiedOn ge 2024-01-01T00:00:00Z",
        "datetime-utc",
    ),
    (
        {"ModifiedOn__lt": dt.datetime(2024, 1, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2)))},
        "ModifiedOn lt 2024-01-01T00:00:00Z",
        "datetime-offset-to-utc",
    ),
    (
        {"ModifiedOn__gt": dt.datetime(2024, 1, 1, 8, 30)},
        "ModifiedOn gt 2024-01-01T08:30:00Z",
        "naive-is-utc",
    ),
    ({"BirthDate": dt.date(1990, 5, 17)}, "BirthDate eq 1990-05-17", "date"),
    ({"Type/Name": ["A", "B"]}, "(Type/Name eq 'A' or Type/Name eq 'B')", "list-one-of"),
    ({"Type/Name": ("A",)}, "Type/Name eq 'A'", "tuple-of-one"),
    ({"Age": {3, 1, 2}}, "(Age eq 1 or Age eq 2 or Age eq 3)", "set-sorted"),
    ({"Name__ne": ["A", "B"]}, "(Name ne 'A' and Name ne 'B')", "ne-list-none-of"),
    ({"Email__contains": "@x.com"}, "contains(Email,'@x.com')", "contains"),
    ({"Name__startswith": "O'B"}, "startswith(Name,'O''B')", "startswith-quote"),
    ({"Name__endswith": "son"}, "endswith(Name,'son')", "endswith"),
    ({"Age__GE": 3}, "Age ge 3", "operator-any-case"),
    ({"Usr__Code": "x"}, "Usr__Code eq 'x'", "double-underscore-column"),
    ({"Account/Name__ne": "X"}, "Account/Name ne 'X'", "path-with-operator"),
    (
        {"Name": "A", "Age__gt": 1, "Owner": None},
        "Name eq 'A' and Age gt 1 and Owner eq null",
        "and-joined-in-order",
    ),
    ({"Name": "a\nb"}, "Name eq 'a\nb'", "newline-kept-inside-literal"),
    ({"Name": "Ünïcødé ☃"}, "Name eq 'Ünïcødé ☃'", "unicode"),
]


@pytest.mark.parametrize(
    ("conditions", "expected"), [(c, e) for c, e, _ in FILTER_CASES], ids=[i for *_, i in FILTER_CASES]
)
def test_build_filter_from_mapping(conditions: Mapping[str, Any], expected: str) -> None:
    assert odata.build_filter(conditions) == expected


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        pytest.param(None, None, id="none"),
        pytest.param("", None, id="empty-string"),
        pytest.param("   ", None, id="blank-string"),
        pytest.param({}, None, id="empty-mapping"),
        pytest.param("Name eq 'x' or Age gt 3", "Name eq 'x' or Age gt 3", id="raw-passes-unchanged"),
        pytest.param(" contains(Name,'a') ", " contains(Name,'a') ", id="raw-not-even-stripped"),
    ],
)
def test_build_filter_raw_and_empty(conditions: Any, expected: str | None) -> None:
    assert odata.build_filter(conditions) == expected


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        pytest.param({"Name eq 'x' or 1 eq 1": 1}, "column path", id="expression-as-key"),
        pytest.param({"Name ": 1}, "column path", id="key-with-space"),
        pytest.param({"": 1}, "column path", id="empty-key"),
        pytest.param({1: 1}, "column paths", id="int-key"),
        pytest.param({"Age__gt": [1, 2]}, "only with eq or ne", id="list-with-gt"),
        pytest.param({"Age": []}, "empty list", id="empty-list"),
        pytest.param({"Age__gt": None}, "cannot be null", id="null-with-gt"),
        pytest.param({"Name__contains": 3}, "must be a string", id="contains-non-string"),
        pytest.param({"Name__contains": None}, "must be a string", id="contains-null"),
        pytest.param({"Name": object()}, "no OData literal", id="object-value"),
        pytest.param({"Name": b"x"}, "no OData literal", id="bytes-value"),
        pytest.param({"At": dt.time(1, 2)}, "no OData literal", id="time-value"),
        pytest.param({"Score": float("nan")}, "finite", id="nan"),
        pytest.param({"Name": {"nested": 1}}, "no OData literal", id="dict-value"),
        pytest.param(["Name", "x"], "mapping", id="list-instead-of-mapping"),
    ],
)
def test_build_filter_refuses(conditions: Any, message: str) -> None:
    with pytest.raises(CreatioValidationError, match=message):
        odata.build_filter(conditions)


def skeleton(expression: str) -> str:
    """The filter with every string literal replaced by '?'; fails if a literal is left open."""
    out: list[str] = []
    index = 0
    while index < len(expression):
        char = expression[index]
        if char != "'":
            out.append(char)
            index += 1
            continue
        index += 1
        while True:
            assert index < len(expression), f"unterminated literal in {expression!r}"
            if expression[index] == "'":
                if expression[index + 1 : index + 2] == "'":
                    index += 2
                    continue
                index += 1
                break
            index += 1
        out.append("'?'")
    return "".join(out)


def literals(expression: str) -> list[str]:
    return [match.replace("''", "'") for match in re.findall(r"'((?:[^']|'')*)'", expression, re.DOTALL)]


NASTY = [
    "x' or 1 eq 1 or Name eq 'y",
    "'",
    "''",
    "'''",
    "') or (Name eq '",
    "a)) or ((b",
    "Name eq 'x'",
    "x' and contains(Name,'",
    "\n' or true or '\n",
    "%27 or 1 eq 1",
    "&$filter=Id ne null",
    "#fragment",
    "a+b c",
    "\u2019 \u02bc \uff07",  # quote look-alikes
    "emoji 😀' or '😀",
    "\x00\x01\x7f",
    "\\' or 1 eq 1 --",
]


def random_nasty(rng: random.Random) -> str:
    alphabet = "'\"()\\/ ,;&=?#%+\n\r\teq or and not 1 xÿ😀"
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))


NASTY_VALUES = NASTY + [random_nasty(random.Random(seed)) for seed in range(300)]


@pytest.mark.parametrize("value", NASTY_VALUES, ids=[f"nasty-{i}" for i in range(len(NASTY_VALUES))])
def test_a_value_cannot_change_the_shape_of_the_filter(value: str) -> None:
    conditions = {"Name": value, "Type/Name": [value, "B"], "Email__contains": value, "Age__gt": 3}
    expression = odata.build_filter(conditions)
    assert expression is not None
    assert skeleton(expression) == (
        "Name eq '?' and (Type/Name eq '?' or Type/Name eq '?') and contains(Email,'?') and Age gt 3"
    )
    assert literals(expression) == [value, value, "B", value]
    # And the query string carries exactly that expression, with no stray separator or '+'.
    query = encode_query(odata.query_records("Contact", filter=conditions).request.params)
    assert " " not in query and "+" not in query and "#" not in query
    assert parse_qsl(query, keep_blank_values=True) == [("$filter", expression)]


def test_guid_looking_text_is_the_only_unquoted_string() -> None:
    assert odata.build_filter({"Code": f"{GUID}x"}) == f"Code eq '{GUID}x'"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("it's", "'it''s'", id="quote"),
        pytest.param(None, "null", id="none"),
        pytest.param(True, "true", id="bool-before-int"),
        pytest.param(0, "0", id="zero"),
        pytest.param(decimal.Decimal("-0.5"), "-0.5", id="decimal"),
        pytest.param(dt.date(2020, 2, 29), "2020-02-29", id="date"),
    ],
)
def test_filter_literal(value: object, expected: str) -> None:
    assert odata.filter_literal(value) == expected


# --- $select, $expand, $orderby ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, None, id="none"),
        pytest.param("", None, id="empty"),
        pytest.param([], None, id="empty-list"),
        pytest.param("Id,Name", "Id,Name", id="string"),
        pytest.param(" Id , Name ,", "Id,Name", id="string-spaces-trailing-comma"),
        pytest.param(["Id", "Name", "Id"], "Id,Name", id="list-duplicates-dropped"),
        pytest.param(("Account/Name",), "Account/Name", id="tuple-path"),
    ],
)
def test_select_option(value: Any, expected: str | None) -> None:
    assert odata.select_option(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("Id;Name", id="semicolon"),
        pytest.param(["Name eq 1"], id="expression"),
        pytest.param([1], id="int-item"),
        pytest.param(5, id="int"),
        pytest.param("Account($select=Name)", id="nested-options"),
    ],
)
def test_select_and_expand_refuse(value: Any) -> None:
    with pytest.raises(CreatioValidationError):
        odata.select_option(value)
    with pytest.raises(CreatioValidationError):
        odata.expand_option(value)


def test_expand_option() -> None:
    assert odata.expand_option(["Account", "Owner"]) == "Account,Owner"
    assert odata.expand_option("Account") == "Account"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("Name", "Name", id="bare"),
        pytest.param("Name, CreatedOn DESC", "Name,CreatedOn desc", id="string-direction-lowered"),
        pytest.param(["Account/Name asc", "Id"], "Account/Name asc,Id", id="list-with-path"),
        pytest.param(["Name  desc"], "Name desc", id="double-space"),
        pytest.param("Name asc,", "Name asc", id="trailing-comma-dropped"),
    ],
)
def test_orderby_option(value: Any, expected: str) -> None:
    assert odata.orderby_option(value) == expected


@pytest.mark.parametrize("value", ["Name up", "Name desc extra", "Name;drop", "Name eq 1", "asc Name"])
def test_orderby_refuses(value: str) -> None:
    with pytest.raises(CreatioValidationError):
        odata.orderby_option(value)


# --- query encoding and JSON decoding ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param([("$filter", "Name eq 'a b'")], "$filter=Name%20eq%20'a%20b'", id="space-as-%20"),
        pytest.param([("p", "a+b")], "p=a%2Bb", id="plus-escaped"),
        pytest.param([("p", "a&b=c")], "p=a%26b%3Dc", id="separators-escaped"),
        pytest.param([("p", "100%")], "p=100%25", id="percent-escaped"),
        pytest.param([("p", "é")], "p=%C3%A9", id="utf8"),
        pytest.param([("p", '["x"]')], "p=%5B%22x%22%5D", id="json"),
        pytest.param([("a", "1"), ("b", "")], "a=1&b=", id="pairs"),
    ],
)
def test_encode_query(params: list[tuple[str, str]], expected: str) -> None:
    assert encode_query(params) == expected


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        pytest.param(answer({"a": 1}), {"a": 1}, id="json"),
        pytest.param(
            answer({"a": 1}, content_type="application/json; odata.metadata=minimal"), {"a": 1}, id="params"
        ),
        pytest.param(answer({"a": 1}, content_type=""), {"a": 1}, id="no-content-type"),
        pytest.param(answer({"a": 1}, content_type="text/plain"), {"a": 1}, id="text-plain"),
        pytest.param(answer(b"\xef\xbb\xbf[1]"), [1], id="utf8-bom"),
    ],
)
def test_decode_json(response: ApiResponse, expected: object) -> None:
    assert decode_json(response, operation="op") == expected


@pytest.mark.parametrize(
    ("response", "message"),
    [
        pytest.param(answer(b'{"a": 1'), "invalid or truncated JSON", id="truncated"),
        pytest.param(
            answer(b"<html>login</html>", content_type="text/html"),
            "HTML page where JSON was expected",
            id="html",
        ),
        pytest.param(
            answer(b"<x/>", content_type="application/xml"),
            "'application/xml' where JSON was expected",
            id="xml",
        ),
        pytest.param(answer(b""), "empty", id="empty"),
        pytest.param(answer(b"\xff\xfe\xfa"), "invalid or truncated JSON", id="not-utf8"),
    ],
)
def test_decode_json_refuses(response: ApiResponse, message: str) -> None:
    with pytest.raises(CreatioResponseError, match=message) as err:
        decode_json(response, operation="get Contact")
    assert err.value.operation == "get Contact"
    assert err.value.path == "/0/odata/Contact"


# --- record bodies and validation before building ---------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda: odata.create_record("Contact/1", {"Name": "x"}), id="create-bad-entity"),
        pytest.param(lambda: odata.create_record("Contact", {"Name": "x"}, "nope"), id="create-bad-id"),
        pytest.param(lambda: odata.create_record("Contact", ["Name"]), id="create-data-not-mapping"),  # type: ignore[arg-type]
        pytest.param(lambda: odata.create_record("Contact", {"Na me": "x"}), id="create-bad-column"),
        pytest.param(lambda: odata.create_record("Contact", {"Account/Name": "x"}), id="create-path-column"),
        pytest.param(lambda: odata.create_record("Contact", {"Tags": ["a"]}), id="create-list-value"),
        pytest.param(lambda: odata.create_record("Contact", {"X": {1, 2}}), id="create-set-value"),
        pytest.param(lambda: odata.create_record("Contact", {"Id": OTHER}, GUID), id="create-ids-disagree"),
        pytest.param(lambda: odata.get_record("Contact", f"{GUID})/x("), id="get-injected-id"),
        pytest.param(lambda: odata.get_record("Contact?", GUID), id="get-bad-entity"),
        pytest.param(lambda: odata.get_record("Contact", GUID, select="Name eq"), id="get-bad-select"),
        pytest.param(lambda: odata.update_record("Contact", GUID, {}), id="update-empty"),
        pytest.param(
            lambda: odata.update_record("Contact", GUID, {"Id": OTHER, "N": 1}), id="update-id-differs"
        ),
        pytest.param(lambda: odata.update_record("Contact", "", {"N": 1}), id="update-empty-id"),
        pytest.param(lambda: odata.delete_record("Contact", None), id="delete-no-id"),  # type: ignore[arg-type]
        pytest.param(lambda: odata.query_records("Contact", top=-1), id="query-negative-top"),
        pytest.param(lambda: odata.query_records("Contact", skip=True), id="query-bool-skip"),
        pytest.param(lambda: odata.query_records("Contact", top="5"), id="query-str-top"),  # type: ignore[arg-type]
        pytest.param(lambda: odata.query_records("Contact", orderby="Name sideways"), id="query-bad-orderby"),
        pytest.param(lambda: odata.count_records("Contact", {"Bad Key": 1}), id="count-bad-filter"),
    ],
)
def test_everything_is_validated_before_building(build: Any) -> None:
    with pytest.raises(CreatioValidationError):
        build()


def test_record_body_converts_values() -> None:
    body = odata.record_body(
        {
            "Name": "x",
            "BirthDate": dt.datetime(2000, 1, 2, tzinfo=dt.timezone.utc),
            "AccountId": uuid.UUID(GUID),
            "Amount": decimal.Decimal("3.25"),
            "Notes": None,
        }
    )
    assert body == {
        "Name": "x",
        "BirthDate": "2000-01-02T00:00:00Z",
        "AccountId": GUID,
        "Amount": 3.25,
        "Notes": None,
    }


# --- create -----------------------------------------------------------------------------------------------------


def test_create_generates_an_id_and_is_safe_to_retry() -> None:
    call = odata.create_record("Contact", {"Name": "API Test"})
    request = call.request
    new_id = request.json_body["Id"]
    assert uuid.UUID(new_id).version == 4
    assert list(request.json_body) == ["Id", "Name"]
    assert (request.method, request.service, request.path) == ("POST", Service.ODATA, "Contact")
    assert request.idempotency is Idempotency.SAFE
    assert request.operation == f"create Contact({new_id})"
    assert request.headers["Content-Type"].startswith("application/json")
    # The same Call, sent twice, sends the same Id twice.
    assert call.request.body_bytes == request.body_bytes


def test_two_creates_get_different_ids() -> None:
    first = odata.create_record("Contact", {"Name": "a"}).request.json_body["Id"]
    second = odata.create_record("Contact", {"Name": "a"}).request.json_body["Id"]
    assert first != second


@pytest.mark.parametrize(
    ("data", "record_id"),
    [
        pytest.param({"Name": "a"}, GUID.upper(), id="argument"),
        pytest.param({"Name": "a", "Id": "{" + GUID + "}"}, None, id="in-data"),
        pytest.param({"Name": "a", "Id": GUID}, uuid.UUID(GUID), id="both-agree"),
        pytest.param({"Name": "a", "Id": None}, GUID, id="data-id-none"),
    ],
)
def test_create_uses_the_given_id(data: dict[str, Any], record_id: Any) -> None:
    body = odata.create_record("Contact", data, record_id).request.json_body
    assert body == {"Id": GUID, "Name": "a"}


def test_create_parses_the_record_without_annotations() -> None:
    call = odata.create_record("Contact", {"Name": "API Test"}, GUID)
    record = call.parse(
        answer(
            {"@odata.context": "https://x/0/odata/$metadata#Contact/$entity", "Id": GUID, "Name": "API Test"},
            201,
        )
    )
    assert record == {"Id": GUID, "Name": "API Test"}


def test_create_with_empty_answer_returns_what_was_sent() -> None:
    call = odata.create_record("Contact", {"Name": "a"}, GUID)
    assert call.parse(answer(b"", 204, content_type="")) == {"Id": GUID, "Name": "a"}


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(answer([1, 2], 201), id="list"),
        pytest.param(answer(b'{"Id":', 201), id="truncated"),
        pytest.param(answer(b"<html></html>", 201, "text/html"), id="html"),
    ],
)
def test_create_refuses_unreadable_answers(response: ApiResponse) -> None:
    with pytest.raises(CreatioResponseError):
        odata.create_record("Contact", {"Name": "a"}).parse(response)


# --- get, update, delete ----------------------------------------------------------------------------------------


def test_get_record_request_and_parse() -> None:
    call = odata.get_record("Contact", GUID.upper(), select=["Id", "Name"], expand="Account")
    request = call.request
    assert (request.method, request.path) == ("GET", f"Contact({GUID})")
    assert request.params == (("$select", "Id,Name"), ("$expand", "Account"))
    assert request.idempotency is Idempotency.SAFE
    assert request.json_body is None
    assert call.parse(answer({"@odata.context": "c", "Id": GUID, "Account": {"Name": "A"}})) == {
        "Id": GUID,
        "Account": {"Name": "A"},
    }


def test_update_record() -> None:
    call = odata.update_record("Contact", GUID, {"Id": GUID.upper(), "JobTitle": "CEO"})
    request = call.request
    assert (request.method, request.path, request.json_body) == (
        "PATCH",
        f"Contact({GUID})",
        {"JobTitle": "CEO"},
    )
    assert request.idempotency is Idempotency.SAFE
    assert call.parse(answer(b"", 204, "")) is None


@pytest.mark.parametrize(
    ("missing_ok", "accepted"),
    [pytest.param(False, frozenset(), id="strict"), pytest.param(True, frozenset({404}), id="missing-ok")],
)
def test_delete_record(missing_ok: bool, accepted: frozenset[int]) -> None:
    call = odata.delete_record("Contact", GUID, missing_ok=missing_ok)
    assert (call.request.method, call.request.path) == ("DELETE", f"Contact({GUID})")
    assert call.request.idempotency is Idempotency.SAFE
    assert call.accept_statuses == accepted
    assert call.parse(answer(b"", 204, "")) is True


def test_delete_missing_record_gives_false() -> None:
    call = odata.delete_record("Contact", GUID, missing_ok=True)
    assert call.parse(answer({"error": {"code": "", "message": "not found"}}, 404)) is False


# --- query and count --------------------------------------------------------------------------------------------


def test_query_records_params_in_order() -> None:
    call = odata.query_records(
        "Contact",
        filter={"Name": "a"},
        select="Id,Name",
        expand=["Account"],
        orderby="Name desc",
        top=10,
        skip=20,
        count=True,
    )
    assert call.request.path == "Contact"
    assert call.request.params == (
        ("$filter", "Name eq 'a'"),
        ("$select", "Id,Name"),
        ("$expand", "Account"),
        ("$orderby", "Name desc"),
        ("$top", "10"),
        ("$skip", "20"),
        ("$count", "true"),
    )


def test_query_records_without_options_has_no_params() -> None:
    assert odata.query_records("Contact").request.params == ()
    assert odata.query_records("Contact", top=0).request.params == (("$top", "0"),)


@pytest.mark.parametrize(
    ("document", "count"),
    [
        pytest.param({"value": [{"Id": GUID}]}, None, id="no-count"),
        pytest.param({"@odata.count": 7, "value": [{"Id": GUID}]}, 7, id="int-count"),
        pytest.param({"@odata.count": "7", "value": [{"Id": GUID}]}, 7, id="ieee754-string-count"),
    ],
)
def test_query_records_parse(document: dict[str, Any], count: int | None) -> None:
    page = odata.query_records("Contact").parse(answer({"@odata.context": "c", **document}))
    assert page == odata.QueryPage([{"Id": GUID}], count)


@pytest.mark.parametrize(
    "document",
    [
        pytest.param({"records": []}, id="no-value"),
        pytest.param({"value": [1]}, id="rows-not-objects"),
        pytest.param({"value": [], "@odata.count": "many"}, id="bad-count"),
        pytest.param({"value": [], "@odata.count": -1}, id="negative-count"),
    ],
)
def test_query_records_refuses(document: dict[str, Any]) -> None:
    with pytest.raises(CreatioResponseError):
        odata.query_records("Contact").parse(answer(document))


def test_count_records_request() -> None:
    call = odata.count_records("Contact", {"Name__startswith": "A"})
    assert call.request.path == "Contact/$count"
    assert call.request.params == (("$filter", "startswith(Name,'A')"),)
    assert odata.count_records("Contact").request.params == ()


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        pytest.param(answer(b"42", content_type="text/plain"), 42, id="text-plain"),
        pytest.param(answer(b" 42\r\n", content_type=""), 42, id="no-type-whitespace"),
        pytest.param(answer(42), 42, id="json-number"),
        pytest.param(answer("42"), 42, id="json-string"),
    ],
)
def test_count_records_parse(response: ApiResponse, expected: int) -> None:
    assert odata.count_records("Contact").parse(response) == expected


@pytest.mark.parametrize(
    "response",
    [
        pytest.param(answer(b"forty", content_type="text/plain"), id="words"),
        pytest.param(answer(b"", content_type="text/plain"), id="empty"),
        pytest.param(answer(b"<html/>", content_type="text/html"), id="html"),
        pytest.param(answer(True), id="json-bool"),
    ],
)
def test_count_records_refuses(response: ApiResponse) -> None:
    with pytest.raises(CreatioResponseError):
        odata.count_records("Contact").parse(response)
