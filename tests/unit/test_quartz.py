"""Quartz -> five-field cron: exact conversions, refusals that name the field, and a cross-check with croniter."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from croniter import croniter

from airflow_provider_creatio.client.errors import CreatioValidationError
from airflow_provider_creatio.schedules.quartz import QuartzConversionError, quartz_to_cron

# (Quartz expression, cron produced, first year, last year)
ACCEPTED = [
    ("0 6 6 ? * FR", "6 6 * * 5", None, None),  # seed 004: two-letter day name
    ("0 6 6 ? * FRI", "6 6 * * 5", None, None),
    ("0 0/15 * * * ?", "*/15 * * * *", None, None),
    ("0 */5 * * * ?", "*/5 * * * *", None, None),
    ("0 0 12 ? * MON-FRI", "0 12 * * 1-5", None, None),
    ("0 30 9 1,15 * ?", "30 9 1,15 * *", None, None),
    ("0 0 0 ? * 1", "0 0 * * 0", None, None),  # Quartz 1 = Sunday = cron 0
    ("0 0 0 ? * 7", "0 0 * * 6", None, None),  # Quartz 7 = Saturday
    ("0 0 0 ? * SUN,SAT", "0 0 * * 0,6", None, None),
    ("0 15 10 ? * 2-6", "15 10 * * 1-5", None, None),
    ("0 5 3-20/2 * * ?", "5 3-19/2 * * *", None, None),
    ("0 0 22-2 * * ?", "0 0-2,22,23 * * *", None, None),  # Quartz wraps a backwards range
    ("0 0 22-2/2 * * ?", "0 0,2,22 * * *", None, None),
    ("0 0 0 ? * FRI-MON", "0 0 * * 0,1,5,6", None, None),
    ("0 0 0 25-5 * ?", "0 0 1-5,25-31 * *", None, None),
    ("0 0 8 ? JAN-MAR,jul mon", "0 8 * 1-3,7 1", None, None),  # names in any letter case
    ("00 00 06 ? * tu,th", "0 6 * * 2,4", None, None),
    ("0 0 0 */5 * ?", "0 0 */5 * *", None, None),
    ("0 0 0 ? */3 *", "0 0 * */3 *", None, None),
    ("0 0 0 ? * */2", "0 0 * * 0-6/2", None, None),  # Quartz */2 from 1 (SUN): SUN, TUE, THU, SAT
    ("0 0 0 1 1-12 ?", "0 0 1 * *", None, None),
    ("0 0 12 * * *", "0 12 * * *", None, None),  # lenient: '*' in place of '?'
    ("0 0 12 * * MO", "0 12 * * 1", None, None),
    ("0 0 12 15 * *", "0 12 15 * *", None, None),
    ("0 0 9 ? * MON *", "0 9 * * 1", None, None),
    ("0 0 9 ? * MON 2025", "0 9 * * 1", 2025, 2025),
    ("0 0 9 ? * MON 2025-2027", "0 9 * * 1", 2025, 2027),
    ("0 0 9 ? * MON 2026,2025", "0 9 * * 1", 2025, 2026),
    ("0 0 9 1 1 ? 2024/1", "0 9 1 1 *", 2024, 2099),
    ("0 0 0 29 2 ? 2024", "0 0 29 2 *", 2024, 2024),
]

# (Quartz expression, field named in the error, a fragment of the reason)
REFUSED = [
    ("0 15 10 ? * 6L", "day-of-week", "the last FRI of the month"),
    ("0 15 10 ? * FRIL", "day-of-week", "the last FRI of the month"),
    ("0 15 10 L * ?", "day-of-month", "the last day of the month"),
    ("0 0 12 LW * ?", "day-of-month", "the last weekday of the month"),
    ("0 0 12 L-3 * ?", "day-of-month", "3 days before the last day"),
    ("0 0 12 15W * ?", "day-of-month", "the weekday nearest day 15"),
    ("0 0 12 ? * 2#1", "day-of-week", "the 1st MON of the month"),
    ("0 0 12 ? * MON#2", "day-of-week", "the 2nd MON of the month"),
    ("0 0 12 ? * L", "day-of-week", "write SAT"),
    ("30 0 12 * * ?", "seconds", "minute resolution"),
    ("* 0 12 * * ?", "seconds", "minute resolution"),
    ("0/30 0 12 * * ?", "seconds", "minute resolution"),
    ("0 0 12 1 * MON", "day-of-month/day-of-week", "both day fields are restricted"),
    ("0 0 12 1-31 * MON-FRI", "day-of-month/day-of-week", "either field"),
    ("0 0 12 ? * ?", "day-of-week", "'?' in both day fields"),
    ("0 0 12 ?,1 * *", "day-of-month", "'?' is only allowed alone"),
    ("0 0 ? * * ?", "hours", "'?' is only allowed alone"),
    ("0 0 12 ? * 0", "day-of-week", "Quartz numbers days 1 = SUN to 7 = SAT"),
    ("0 0 12 ? * 8", "day-of-week", "outside 1-7"),
    ("0 60 12 * * ?", "minutes", "outside 0-59"),
    ("0 0 24 * * ?", "hours", "outside 0-23"),
    ("0 0 12 32 * ?", "day-of-month", "outside 1-31"),
    ("0 0 12 ? 13 *", "month", "outside 1-12"),
    ("0 0 12 ? JANUARY *", "month", "'JANUARY' is not a name"),
    ("0 0 12 ? * FRIDAY", "day-of-week", "'FRIDAY' is not a name"),
    ("0 0 H * * ?", "hours", "'H' is not a number"),
    ("0 0/0 * * * ?", "minutes", "the step must be between 1 and 60"),
    ("0 0/61 * * * ?", "minutes", "the step must be between 1 and 60"),
    ("0 0 12 1-5-7 * ?", "day-of-month", "cannot read '1-5-7'"),
    ("0 0 12 ? * MON-", "day-of-week", "cannot read 'MON-'"),
    ("0 0 12 * * ? 2025,2027", "year", "not one contiguous range"),
    ("0 0 12 * * ? 2027-2025", "year", "runs backwards"),
    ("0 0 12 * * ? 1969", "year", "outside 1970-2099"),
    ("0 0 0 30 2 ?", "day-of-month", "never fires"),
    ("0 0 0 31 4,6,9,11 ?", "day-of-month", "never fires"),
    ("0 0 0 29 2 ? 2097-2099", "year", "none of these years is a leap year"),
]


@pytest.mark.parametrize(("expression", "cron", "first_year", "last_year"), ACCEPTED)
def test_accepted_expressions_convert_exactly(
    expression: str, cron: str, first_year: int | None, last_year: int | None
) -> None:
    result = quartz_to_cron(expression)
    assert (result.cron, result.first_year, result.last_year) == (cron, first_year, last_year)
    assert result.expression == expression


@pytest.mark.parametrize(("expression", "field", "fragment"), REFUSED)
def test_refused_expressions_name_the_field_and_the_reason(
    expression: str, field: str, fragment: str
) -> None:
    with pytest.raises(QuartzConversionError) as caught:
        quartz_to_cron(expression)
    assert caught.value.field == field
    assert f"{field} field" in str(caught.value)
    assert fragment in str(caught.value)
    assert repr(expression) in str(caught.value)


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("0 12 * * *", "got 5 (a unix cron has 5; Quartz starts with a seconds field)"),
        ("0 0 0 12 * * ? 2025", "got 8"),
        ("", "got 0"),
    ],
)
def test_wrong_number_of_fields_is_refused(expression: str, fragment: str) -> None:
    with pytest.raises(QuartzConversionError) as caught:
        quartz_to_cron(expression)
    assert caught.value.field is None
    assert fragment in str(caught.value)


def test_the_error_is_a_validation_error() -> None:
    with pytest.raises(CreatioValidationError):
        quartz_to_cron("0 15 10 L * ?")
    assert issubclass(QuartzConversionError, ValueError)


WINDOW_START = dt.datetime(2024, 1, 1)
WINDOW_END = dt.datetime(2031, 12, 31, 23, 59)


@pytest.mark.parametrize("expression", [row[0] for row in ACCEPTED if row[2] is None])
def test_cron_fires_exactly_when_quartz_does(expression: str) -> None:
    """croniter (what Airflow schedules with) reading the produced cron gives the times Quartz's fields select."""
    result = quartz_to_cron(expression)
    quartz_times = list(itertools.islice(result.fire_times(WINDOW_START, WINDOW_END), 400))
    cron_iter = croniter(result.cron, WINDOW_START - dt.timedelta(seconds=1))
    cron_times = [cron_iter.get_next(dt.datetime) for _ in quartz_times]
    assert len(quartz_times) >= 90  # the least frequent expression here fires monthly for eight years
    assert cron_times == quartz_times


@pytest.mark.parametrize(
    ("expression", "first_time"),
    [
        ("0 0 0 ? * 1", dt.datetime(2024, 1, 7)),  # 2024-01-01 is a Monday; Quartz day 1 is Sunday
        ("0 0 0 ? * SU", dt.datetime(2024, 1, 7)),
        ("0 6 6 ? * FR", dt.datetime(2024, 1, 5, 6, 6)),
        ("0 0 12 ? * 7", dt.datetime(2024, 1, 6, 12)),  # Quartz day 7 is Saturday
        ("0 0 12 ? * 2", dt.datetime(2024, 1, 1, 12)),
    ],
)
def test_day_of_week_numbers_follow_quartz(expression: str, first_time: dt.datetime) -> None:
    cron = quartz_to_cron(expression).cron
    assert croniter(cron, WINDOW_START - dt.timedelta(seconds=1)).get_next(dt.datetime) == first_time


def test_fire_times_include_both_bounds_and_respect_years() -> None:
    result = quartz_to_cron("0 30 9 1,15 * ? 2025")
    start, end = dt.datetime(2024, 12, 15, 9, 30), dt.datetime(2025, 1, 15, 9, 30)
    assert list(result.fire_times(start, end)) == [dt.datetime(2025, 1, 1, 9, 30), end]
    assert list(result.fire_times(dt.datetime(2025, 1, 1, 9, 31), dt.datetime(2025, 1, 15, 9, 29))) == []
