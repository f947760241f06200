"""A poll's batch of changes (client/changes.py): what its event carries, whatever the number of changes; a
poll's filter, bounded by the clock margin; the trigger's clock_margin argument; the change window and the mark
store the extract shares."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from airflow_provider_creatio import marks
from airflow_provider_creatio._compat import AirflowException
from airflow_provider_creatio.client.changes import ChangeBatch, Mark, change_window, changed_before
from airflow_provider_creatio.client.errors import CreatioValidationError
from airflow_provider_creatio.triggers.record_change import CreatioRecordChangeTrigger

IDS = [f"{number:08x}-0000-4000-8000-000000000000" for number in range(5)]


def _record(number: int) -> dict[str, Any]:
    return {"Id": IDS[number], "ModifiedOn": f"2026-01-01T00:00:0{number}Z"}


def test_a_batch_names_its_first_ids_counts_all_and_ends_on_the_last_change() -> None:
    after = Mark("2025-12-31T00:00:00Z", IDS[0])
    batch = ChangeBatch(after=after, ids_limit=2)
    batch.add([_record(1), _record(2)])
    batch.add([_record(3)])

    assert batch.payload() == {
        "count": 3,
        "ids": IDS[1:3],
        "truncated": True,
        "after": {"ModifiedOn": "2025-12-31T00:00:00Z", "Id": IDS[0]},
        "mark": {"ModifiedOn": "2026-01-01T00:00:03Z", "Id": IDS[3]},
    }


def test_an_empty_batch_keeps_no_mark() -> None:
    batch = ChangeBatch()
    batch.add([])
    assert batch.payload() == {"count": 0, "ids": [], "truncated": False, "after": None, "mark": None}


def test_a_mark_round_trips_and_a_bad_one_is_refused() -> None:
    mark = Mark("2026-01-01T00:00:00Z", IDS[0])
    assert Mark.from_dict(mark.to_dict()) == mark
    assert Mark.from_dict(None) is None
    with pytest.raises(CreatioValidationError, match="high-water mark"):
        Mark.from_dict({"Id": IDS[0]})


NOW = dt.datetime(2026, 12, 2, 12, 30, 0, 250000, tzinfo=dt.timezone.utc)


def test_a_poll_reads_only_changes_stamped_before_its_bound() -> None:
    bound = dt.datetime(2026, 12, 2, 13, 29, 30, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert changed_before(None, bound) == "ModifiedOn lt 2026-12-02T12:29:30.000005Z"
    assert changed_before("Priority/Name eq 'High'", bound) == (
        "(Priority/Name eq 'High') and ModifiedOn lt 2026-12-02T12:29:30.000005Z"
    )


@pytest.mark.parametrize(
    ("clock_margin", "bound"),
    [
        (None, "2026-12-02T12:29:30.250000Z"),  # the default, 30 s
        (dt.timedelta(minutes=2), "2026-12-02T12:28:00.250000Z"),
        (1.5, "2026-12-02T12:29:58.750000Z"),
        (0, "2026-12-02T12:30:00.250000Z"),
    ],
)
def test_the_trigger_bounds_its_polls_clock_margin_before_now(clock_margin: Any, bound: str) -> None:
    margin = {} if clock_margin is None else {"clock_margin": clock_margin}
    trigger = CreatioRecordChangeTrigger(entity="Case", filter={"Priority/Name": "High"}, **margin)
    assert trigger.poll_filter(NOW) == f"(Priority/Name eq 'High') and ModifiedOn lt {bound}"
    kwargs = trigger.serialize()[1]
    assert isinstance(kwargs["clock_margin"], float)  # the trigger row keeps JSON
    assert CreatioRecordChangeTrigger(**kwargs).poll_filter(NOW) == trigger.poll_filter(NOW)


@pytest.mark.parametrize(
    ("clock_margin", "error"),
    [(-1, ValueError), (dt.timedelta(seconds=-1), ValueError), ("30", TypeError), (True, TypeError)],
)
def test_a_bad_clock_margin_fails_the_dag_file(clock_margin: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="clock_margin"):
        CreatioRecordChangeTrigger(entity="Case", clock_margin=clock_margin)


@pytest.mark.parametrize(
    ("filter", "start", "expected"),
    [
        (None, None, "ModifiedOn lt 2026-01-02T00:00:00Z"),
        (
            None,
            "2026-01-01T00:00:00Z",
            "ModifiedOn ge 2026-01-01T00:00:00Z and ModifiedOn lt 2026-01-02T00:00:00Z",
        ),
        (
            "Name eq 'x' or Name eq 'y'",
            "2026-01-01T00:00:00Z",
            "(Name eq 'x' or Name eq 'y') and ModifiedOn ge 2026-01-01T00:00:00Z and ModifiedOn lt 2026-01-02T00:00:00Z",
        ),
    ],
)
def test_one_change_window_for_the_extract_and_the_trigger(
    filter: str | None, start: str | None, expected: str
) -> None:
    assert change_window(filter, start, "2026-01-02T00:00:00Z") == expected


@pytest.mark.parametrize("text", ['"2026-01-01T00:00:00Z"', "not json", "[1]"])
def test_a_mark_variable_that_holds_no_object_is_an_error_naming_it(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setattr(marks.Variable, "get", staticmethod(lambda key, default=None: text))

    with pytest.raises(AirflowException, match="the Variable creatio_mark must hold a JSON object"):
        marks.read_mark("creatio_mark")
