"""Argument checks and JSON conversions of client/validation.py."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import pytest

from airflow_provider_creatio.client import validation
from airflow_provider_creatio.client.errors import CreatioValidationError

GUID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
PLUS_TWO = dt.timezone(dt.timedelta(hours=2))


@pytest.mark.parametrize(
    ("value", "allow_zero", "maximum"),
    [
        pytest.param(1, False, None, id="one"),
        pytest.param(10**9, False, None, id="large"),
        pytest.param(0, True, None, id="zero-allowed"),
        pytest.param(100, False, 100, id="at-the-maximum"),
    ],
)
def test_check_count_accepts(value: int, allow_zero: bool, maximum: int | None) -> None:
    assert validation.check_count(value, "n", allow_zero=allow_zero, maximum=maximum) == value


@pytest.mark.parametrize(
    ("value", "allow_zero", "maximum", "message"),
    [
        pytest.param(0, False, None, "n must be a positive integer, got 0", id="zero"),
        pytest.param(-1, True, None, "n must be a non-negative integer, got -1", id="negative"),
        pytest.param(True, False, None, "n must be a positive integer, got True", id="bool"),
        pytest.param("5", False, None, "n must be a positive integer, got '5'", id="text"),
        pytest.param(0, False, 100, "n must be an integer between 1 and 100, got 0", id="below-range"),
        pytest.param(101, False, 100, "n must be an integer between 1 and 100, got 101", id="above-range"),
        pytest.param(-1, False, 100, "between 1 and 100, got -1", id="negative-in-range"),
        pytest.param(True, False, 100, "between 1 and 100, got True", id="bool-in-range"),
        pytest.param(2.5, False, 100, "between 1 and 100, got 2.5", id="float-in-range"),
    ],
)
def test_check_count_refuses(value: object, allow_zero: bool, maximum: int | None, message: str) -> None:
    with pytest.raises(CreatioValidationError) as caught:
        validation.check_count(value, "n", allow_zero=allow_zero, maximum=maximum)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(GUID, id="lower"),
        pytest.param(GUID.upper(), id="upper"),
        pytest.param("3F2504e0-4f89-11D3-9a0c-0305E82C3301", id="mixed-case"),
        pytest.param("{" + GUID + "}", id="braces"),
        pytest.param("{" + GUID.upper() + "}", id="braces-upper"),
        pytest.param(f"  {GUID}\n", id="surrounding-whitespace"),
        pytest.param(uuid.UUID(GUID), id="uuid-object"),
    ],
)
def test_parse_guid_accepts_and_normalises(value: object) -> None:
    assert validation.parse_guid(value, "record_id") == GUID
    assert validation.is_guid(value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("", id="empty"),
        pytest.param("not-a-guid", id="words"),
        pytest.param(GUID.replace("-", ""), id="32-hex-without-hyphens"),
        pytest.param("{" + GUID, id="opening-brace-only"),
        pytest.param(GUID + "}", id="closing-brace-only"),
        pytest.param("(" + GUID + ")", id="parentheses"),
        pytest.param("urn:uuid:" + GUID, id="urn"),
        pytest.param(GUID + "0", id="one-digit-too-many"),
        pytest.param(GUID[:-1], id="one-digit-short"),
        pytest.param(GUID.replace("3", "g", 1), id="non-hex-letter"),
        pytest.param(GUID + ") or (1 eq 1", id="injection-tail"),
        pytest.param(f"{GUID}\nx", id="newline-tail"),
        pytest.param(None, id="none"),
        pytest.param(12345, id="int"),
        pytest.param(GUID.encode(), id="bytes"),
    ],
)
def test_parse_guid_rejects_with_argument_and_value(value: object) -> None:
    with pytest.raises(CreatioValidationError) as err:
        validation.parse_guid(value, "record_id")
    assert "record_id" in str(err.value)
    assert repr(value)[:40] in str(err.value)
    assert not validation.is_guid(value)


def test_rejected_value_is_shortened_in_message() -> None:
    with pytest.raises(CreatioValidationError) as err:
        validation.parse_guid("x" * 500, "record_id")
    assert len(str(err.value)) < 200
    assert "..." in str(err.value)


@pytest.mark.parametrize("name", ["Contact", "UsrInvoice_2", "A", "SysProcessLog", "usr_lower"])
def test_entity_names_accepted(name: str) -> None:
    assert validation.check_entity_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("", id="empty"),
        pytest.param("1Contact", id="leading-digit"),
        pytest.param("_Contact", id="leading-underscore"),
        pytest.param("Contact/1", id="slash"),
        pytest.param("Contact?x=1", id="question-mark"),
        pytest.param("Contact(1)", id="parenthesis"),
        pytest.param("Con tact", id="space"),
        pytest.param("Contact\n", id="trailing-newline"),
        pytest.param("Contáct", id="non-ascii"),
        pytest.param("Contact'", id="quote"),
        pytest.param("Contact%20", id="percent"),
        pytest.param(None, id="none"),
        pytest.param(["Contact"], id="list"),
    ],
)
def test_entity_names_rejected_clearly(name: object) -> None:
    with pytest.raises(CreatioValidationError) as err:
        validation.check_entity_name(name)
    message = str(err.value)
    assert message.startswith("entity must be a Creatio object name")
    assert repr(name) in message


@pytest.mark.parametrize("name", ["UsrProcess_7a8b9c1", "ProcessParam", "p1"])
def test_codes_accepted(name: str) -> None:
    assert validation.check_code(name, "process name") == name


@pytest.mark.parametrize("name", ["", "My Process", "Proc/Execute", "Proc?x", "9Proc", "Proc&a=b"])
def test_codes_rejected_with_argument_name(name: str) -> None:
    with pytest.raises(CreatioValidationError, match="process name must be a Creatio code"):
        validation.check_code(name, "process name")


@pytest.mark.parametrize(
    "path", ["Name", "Status/Id", "Account/Name", "Account/PrimaryContact/Name", "Usr_X/Id"]
)
def test_column_paths_accepted(path: str) -> None:
    assert validation.check_column_path(path) == path


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("", id="empty"),
        pytest.param("/Name", id="leading-slash"),
        pytest.param("Name/", id="trailing-slash"),
        pytest.param("Status//Id", id="double-slash"),
        pytest.param("Status Id", id="space"),
        pytest.param("Name eq 'x'", id="expression"),
        pytest.param("Name,Id", id="comma"),
        pytest.param("Account/1Name", id="segment-leading-digit"),
        pytest.param(None, id="none"),
    ],
)
def test_column_paths_rejected(path: object) -> None:
    with pytest.raises(CreatioValidationError, match="must be a column path"):
        validation.check_column_path(path, "select")


def test_column_name_refuses_paths() -> None:
    with pytest.raises(CreatioValidationError):
        validation.check_column_name("Account/Name")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(
            dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc), "2024-01-02T03:04:05Z", id="utc"
        ),
        pytest.param(dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=PLUS_TWO), "2024-01-02T01:04:05Z", id="offset"),
        pytest.param(dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05Z", id="naive-is-utc"),
        pytest.param(dt.datetime(2024, 1, 2, 3, 4, 5, 120), "2024-01-02T03:04:05.000120Z", id="microseconds"),
    ],
)
def test_utc_iso(value: dt.datetime, expected: str) -> None:
    assert validation.utc_iso(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, None, id="none"),
        pytest.param("text", "text", id="str"),
        pytest.param(True, True, id="bool"),
        pytest.param(7, 7, id="int"),
        pytest.param(1.5, 1.5, id="float"),
        pytest.param(
            dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=PLUS_TWO), "2024-05-06T05:08:09Z", id="datetime"
        ),
        pytest.param(dt.date(2024, 5, 6), "2024-05-06", id="date"),
        pytest.param(dt.time(7, 8, 9), "07:08:09", id="time"),
        pytest.param(uuid.UUID(GUID), GUID, id="uuid"),
        pytest.param(decimal.Decimal("12.00"), 12, id="decimal-whole"),
        pytest.param(decimal.Decimal("0.1"), 0.1, id="decimal-exact-float"),
        pytest.param(
            decimal.Decimal("0.10000000000000000001"), "0.10000000000000000001", id="decimal-beyond-float"
        ),
        pytest.param((1, "a"), [1, "a"], id="tuple"),
        pytest.param({"a": [dt.date(2024, 1, 1)]}, {"a": ["2024-01-01"]}, id="nested"),
    ],
)
def test_to_json_value_converts(value: object, expected: object) -> None:
    assert validation.to_json_value(value, "data['X']") == expected


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        pytest.param({1, 2}, "set", id="set"),
        pytest.param(b"raw", "bytes", id="bytes"),
        pytest.param(object(), "object", id="object"),
        pytest.param([1, {"deep": object()}], "object", id="nested-object"),
        pytest.param(float("nan"), None, id="nan"),
        pytest.param(float("inf"), None, id="infinity"),
        pytest.param(decimal.Decimal("NaN"), None, id="decimal-nan"),
        pytest.param({1: "a"}, None, id="non-string-key"),
    ],
)
def test_to_json_value_refuses_naming_argument_and_type(value: object, type_name: str | None) -> None:
    with pytest.raises(CreatioValidationError) as err:
        validation.to_json_value(value, "param 'Items'")
    assert "param 'Items'" in str(err.value)
    if type_name:
        assert f"type {type_name}" in str(err.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(1e-05, "0.00001", id="small-float-no-exponent"),
        pytest.param(1e21, "1000000000000000000000", id="large-float-no-exponent"),
        pytest.param(-2.5, "-2.5", id="negative"),
        pytest.param(decimal.Decimal("1E+3"), "1000", id="decimal-exponent"),
    ],
)
def test_plain_number(value: float | decimal.Decimal, expected: str) -> None:
    assert validation.plain_number(value, "x") == expected
