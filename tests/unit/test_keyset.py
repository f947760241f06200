"""The keyset cursor's decisions (client/keyset.py): what it asks next and what it passes on."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from airflow_provider_creatio.client.errors import (
    CreatioBadRequestError,
    CreatioResponseError,
    CreatioValidationError,
)
from airflow_provider_creatio.client.keyset import (
    MAX_PAGE_SIZE,
    KeysetCursor,
    PageRequest,
    filter_date_time,
    parse_date_time,
)

IDS = [f"{number:08x}-0000-4000-8000-000000000000" for number in range(10)]


def _record(number: int, second: int = 0) -> dict[str, Any]:
    return {"Id": IDS[number], "ModifiedOn": f"2026-01-01T00:00:{second:02d}Z"}


@pytest.mark.parametrize("page_size", [0, MAX_PAGE_SIZE + 1, -5, 2.5])
def test_a_page_size_creatio_cannot_answer_whole_is_refused(page_size: Any) -> None:
    with pytest.raises(CreatioValidationError, match="page_size"):
        KeysetCursor("ModifiedOn", page_size)


def test_a_full_extract_pages_on_id_after_the_last_one() -> None:
    cursor = KeysetCursor(None, 2)

    first = cursor.next_request()
    passed = cursor.take([_record(0), _record(1)])
    second = cursor.next_request()
    cursor.take([_record(2)])

    assert first == PageRequest(None, "Id", 2)
    assert len(passed) == 2
    assert second == PageRequest(f"Id gt {IDS[1]}", "Id", 2)
    assert cursor.done


def test_an_incremental_extract_resumes_after_the_last_date_and_id() -> None:
    cursor = KeysetCursor("ModifiedOn", 2)

    cursor.take([_record(0, 1), _record(1, 5)])

    assert cursor.next_request() == PageRequest(
        f"((ModifiedOn gt 2026-01-01T00:00:05Z) or (ModifiedOn eq 2026-01-01T00:00:05Z and Id gt {IDS[1]}))",
        "ModifiedOn,Id",
        2,
    )


def test_an_empty_page_ends_the_read() -> None:
    cursor = KeysetCursor("ModifiedOn", 3)

    assert list(cursor.take([])) == []
    assert cursor.done
    with pytest.raises(RuntimeError):
        cursor.next_request()


def test_without_guid_comparison_the_last_date_of_a_page_is_read_again_from_its_start() -> None:
    cursor = KeysetCursor("ModifiedOn", 3, guid_comparison=False)

    passed = cursor.take([_record(0, 1), _record(1, 2), _record(2, 2)])

    assert [record["Id"] for record in passed] == [IDS[0]]
    assert cursor.next_request() == PageRequest("ModifiedOn ge 2026-01-01T00:00:02Z", "ModifiedOn,Id", 3)


def test_without_guid_comparison_a_page_of_one_date_is_followed_by_that_whole_date() -> None:
    cursor = KeysetCursor("ModifiedOn", 2, guid_comparison=False)

    held = cursor.take([_record(0, 3), _record(1, 3)])
    whole = cursor.next_request()
    passed = cursor.take([_record(0, 3), _record(1, 3), _record(2, 3)])

    assert list(held) == []
    assert whole == PageRequest("ModifiedOn eq 2026-01-01T00:00:03Z", "Id", MAX_PAGE_SIZE)
    assert len(passed) == 3
    assert cursor.next_request() == PageRequest("ModifiedOn gt 2026-01-01T00:00:03Z", "ModifiedOn,Id", 2)


def test_without_guid_comparison_a_date_shared_by_more_than_one_answer_holds_is_an_error() -> None:
    cursor = KeysetCursor("ModifiedOn", 1, guid_comparison=False)
    cursor.take([_record(0, 3)])

    with pytest.raises(CreatioResponseError, match="share ModifiedOn"):
        cursor.take([_record(0, 3)] * MAX_PAGE_SIZE)


def test_paging_on_id_alone_needs_guid_comparison() -> None:
    with pytest.raises(CreatioValidationError, match="guid_comparison"):
        KeysetCursor(None, 10, guid_comparison=False)


@pytest.mark.parametrize(
    "record",
    [{"ModifiedOn": "2026-01-01T00:00:00Z"}, {"Id": IDS[0], "ModifiedOn": "yesterday') or (1 eq 1"}],
)
def test_a_record_without_a_usable_key_stops_the_read(record: dict[str, Any]) -> None:
    cursor = KeysetCursor("ModifiedOn", 1)

    with pytest.raises(CreatioResponseError, match="keyset paging needs"):
        cursor.take([record])


def test_a_read_starts_after_a_mark_and_ends_on_the_last_record_taken() -> None:
    cursor = KeysetCursor("ModifiedOn", 2, after=("2026-01-01T00:00:05Z", IDS[3]))

    first = cursor.next_request()
    cursor.take([_record(4, 6)])

    assert first.filter == (
        f"((ModifiedOn gt 2026-01-01T00:00:05Z) or (ModifiedOn eq 2026-01-01T00:00:05Z and Id gt {IDS[3]}))"
    )
    assert cursor.done
    assert cursor.position == ("2026-01-01T00:00:06Z", IDS[4])


def test_a_read_from_a_date_includes_that_date_and_keeps_its_start_when_nothing_came() -> None:
    cursor = KeysetCursor("ModifiedOn", 2, after=("2026-01-01T00:00:05Z", None))

    assert cursor.next_request().filter == "ModifiedOn ge 2026-01-01T00:00:05Z"
    cursor.take([])
    assert cursor.position == ("2026-01-01T00:00:05Z", None)


@pytest.mark.parametrize(
    ("column", "after"),
    [(None, ("2026-01-01T00:00:05Z", None)), ("ModifiedOn", ("yesterday", None))],
)
def test_a_start_needs_a_date_column_and_a_date(column: str | None, after: tuple[str, str | None]) -> None:
    with pytest.raises(CreatioValidationError):
        KeysetCursor(column, 2, after=after)


@pytest.mark.parametrize(("last_id", "expected"), [(IDS[3], "gt"), (None, "ge")])
def test_without_guid_comparison_a_start_after_a_record_starts_after_its_whole_date(
    last_id: str | None, expected: str
) -> None:
    cursor = KeysetCursor("ModifiedOn", 2, after=("2026-01-01T00:00:05Z", last_id), guid_comparison=False)

    assert cursor.next_request().filter == f"ModifiedOn {expected} 2026-01-01T00:00:05Z"


GUID_REFUSAL = CreatioBadRequestError(
    "bad request",
    status=400,
    server_message="A binary operator with incompatible types was detected. Found operand types 'Edm.Guid' and "
    "'Edm.Guid' for operator kind 'GreaterThan'.",
)


def test_a_refused_first_guid_comparison_goes_on_from_the_start_on_created_on_leaving_out_what_was_handed_out() -> (
    None
):
    cursor = KeysetCursor(None, 2)
    assert cursor.next_request().filter is None
    handed = cursor.take([_record(0), _record(1)])
    assert cursor.next_request().filter == f"Id gt {IDS[1]}"

    assert cursor.can_fall_back(GUID_REFUSAL)
    cursor.fall_back()
    again = cursor.next_request()
    rest = cursor.take([{**_record(1), "CreatedOn": "2026-01-01T00:00:00Z"}])

    assert [record["Id"] for record in handed] == IDS[:2]
    assert again == PageRequest(None, "CreatedOn,Id", 2)
    assert (cursor.column, cursor.guid_comparison) == ("CreatedOn", False)
    assert rest == [] and cursor.done


def test_a_refused_comparison_after_a_mark_goes_on_after_the_marks_whole_date() -> None:
    cursor = KeysetCursor("ModifiedOn", 2, after=("2026-01-01T00:00:05Z", IDS[3]))
    cursor.next_request()

    assert cursor.can_fall_back(GUID_REFUSAL)
    cursor.fall_back()

    assert cursor.next_request() == PageRequest("ModifiedOn gt 2026-01-01T00:00:05Z", "ModifiedOn,Id", 2)


def test_once_the_server_answered_a_guid_comparison_a_refusal_is_not_a_reason_to_fall_back() -> None:
    cursor = KeysetCursor(None, 1)
    cursor.next_request()
    cursor.take([_record(0)])
    cursor.next_request()
    cursor.take([_record(1)])  # answered: the site compares GUIDs
    cursor.next_request()

    assert not cursor.can_fall_back(GUID_REFUSAL)
    assert not cursor.can_fall_back(CreatioBadRequestError("bad request", status=400, server_message="other"))
    with pytest.raises(RuntimeError):
        cursor.fall_back()


def test_a_request_without_a_guid_comparison_cannot_fall_back() -> None:
    cursor = KeysetCursor(None, 2)
    cursor.next_request()

    assert not cursor.can_fall_back(GUID_REFUSAL)


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2031-05-01T10:00:00.1234567Z", dt.datetime(2031, 5, 1, 10, 0, 0, 123456, tzinfo=dt.timezone.utc)),
        ("2031-05-01T10:00:00Z", dt.datetime(2031, 5, 1, 10, tzinfo=dt.timezone.utc)),
        ("2031-05-01T12:00:00.5+02:00", dt.datetime(2031, 5, 1, 10, 0, 0, 500000, tzinfo=dt.timezone.utc)),
    ],
)
def test_a_date_time_parses_with_creatios_seven_digits_and_a_zone(text: str, moment: dt.datetime) -> None:
    assert parse_date_time(text) == moment
    assert filter_date_time(moment) == filter_date_time(parse_date_time(filter_date_time(moment)))


def test_a_filter_date_time_is_utc_with_microseconds() -> None:
    moment = dt.datetime(2026, 12, 2, 13, 0, 0, 7, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert filter_date_time(moment) == "2026-12-02T12:00:00.000007Z"
    with pytest.raises(CreatioValidationError):
        parse_date_time("2026-12-02 12:00")
