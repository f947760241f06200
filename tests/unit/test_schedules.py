"""Loading and validating schedule files (no Airflow, no operator: build_dag is covered by tests/dags)."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
import yaml

from airflow_provider_creatio.client.errors import CreatioValidationError
from airflow_provider_creatio.schedules import ProcessSchedule, ScheduleFileError, load_schedule_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "schedules"
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
UTC = dt.timezone.utc
REMOVE = object()

GOOD = {
    "name": "UsrFullNameProcess",
    "values": {"UserName": "John", "UserSurname": "Doe"},
    "resultParameters": ["FullName"],
    "quartzDef": "0 0 9 ? * MON-FRI",
    "startDate": "2025-01-01 00:00:00",
    "endDate": "2026-01-01",
    "retryCount": 2,
    "timezone": "Europe/Berlin",
}


def write(tmp_path: Path, entries: Any, suffix: str = ".yaml") -> Path:
    path = tmp_path / f"schedules{suffix}"
    text = json.dumps(entries) if suffix == ".json" else yaml.safe_dump(entries, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def entry(**changes: Any) -> dict[str, Any]:
    result = {**GOOD, **changes}
    return {key: value for key, value in result.items() if value is not REMOVE}


def load_one(tmp_path: Path, **changes: Any) -> ProcessSchedule:
    (schedule,) = load_schedule_file(write(tmp_path, [entry(**changes)]))
    return schedule


# ------------------------------------------------------------------------------------------- valid files


def test_a_full_entry_is_read_into_a_schedule(tmp_path: Path) -> None:
    schedule = load_one(tmp_path)
    assert schedule.dag_id == "creatio_UsrFullNameProcess"
    assert schedule.process_name == "UsrFullNameProcess"
    assert schedule.parameters == {"UserName": "John", "UserSurname": "Doe"}
    assert schedule.result_parameters == ("FullName",)
    assert schedule.quartz is not None and schedule.quartz.cron == "0 9 * * 1-5"
    assert schedule.start_date == dt.datetime(2025, 1, 1, tzinfo=BERLIN)
    assert schedule.end_date == dt.datetime(2026, 1, 1, tzinfo=BERLIN)
    assert schedule.latest_run == dt.datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=BERLIN)
    assert (schedule.run_once, schedule.run_immediately, schedule.retries) == (False, False, 2)
    assert (schedule.creatio_conn_id, schedule.tags, schedule.timezone) == (
        None,
        ("creatio",),
        "Europe/Berlin",
    )


def test_defaults_for_a_minimal_entry(tmp_path: Path) -> None:
    schedule = load_one(
        tmp_path,
        values=REMOVE,
        resultParameters=REMOVE,
        startDate=REMOVE,
        endDate=REMOVE,
        retryCount=REMOVE,
        timezone=REMOVE,
    )
    assert schedule.parameters == {}
    assert schedule.result_parameters == ()
    assert (schedule.start_date, schedule.end_date, schedule.earliest_run, schedule.latest_run) == (None,) * 4
    assert (schedule.retries, schedule.timezone) == (0, "UTC")


def test_json_file_with_seed_spellings(tmp_path: Path) -> None:
    first, second = load_schedule_file(FIXTURES / "valid.json")
    assert first.run_immediately is True  # written "run immediately": "Y"
    assert first.retries == 2  # written "2"
    assert first.quartz is not None and first.quartz.cron == "0 9 * * 1-5"
    assert first.start_date == dt.datetime(2025, 1, 1, tzinfo=BERLIN)
    assert (second.dag_id, second.run_once, second.quartz) == ("custom_once", True, None)
    assert second.result_parameters == ("CustomProcessResult",)


def test_the_same_entry_reads_the_same_from_yaml_and_json(tmp_path: Path) -> None:
    from_yaml = load_schedule_file(write(tmp_path, [entry()], ".yaml"))
    from_json = load_schedule_file(write(tmp_path, [entry()], ".json"))
    assert from_yaml == from_json


@pytest.mark.parametrize(
    ("written", "expected"),
    [("Y", True), ("y", True), ("N", False), ("n", False), (True, True), (False, False)],
)
def test_yes_no_values(tmp_path: Path, written: object, expected: bool) -> None:
    assert load_one(tmp_path, runImmediately=written).run_immediately is expected


def test_yaml_yes_and_no_are_booleans_already(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("- {name: CustomProcess, quartzDef: '0 0 1 * * ?', runImmediately: yes}\n")
    assert load_schedule_file(path)[0].run_immediately is True


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2025-03-01", dt.datetime(2025, 3, 1, tzinfo=BERLIN)),
        ("2025-03-01 08:30", dt.datetime(2025, 3, 1, 8, 30, tzinfo=BERLIN)),
        ("2025-03-01T08:30:15.25", dt.datetime(2025, 3, 1, 8, 30, 15, 250000, tzinfo=BERLIN)),
        ("2025-03-01 08:30:00Z", dt.datetime(2025, 3, 1, 8, 30, tzinfo=UTC)),
        ("2025-03-01 08:30:00-05:30", dt.datetime(2025, 3, 1, 14, 0, tzinfo=UTC)),
    ],
)
def test_date_spellings(tmp_path: Path, written: str, expected: dt.datetime) -> None:
    assert load_one(tmp_path, startDate=written).start_date == expected


def test_yaml_timestamps_and_dates_are_read_in_the_entry_time_zone(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "- name: CustomProcess\n"
        "  quartzDef: '0 0 1 * * ?'\n"
        "  timezone: Europe/Berlin\n"
        "  startDate: 2025-03-01 08:30:00\n"
        "  endDate: 2025-04-01\n"
    )
    (schedule,) = load_schedule_file(path)
    assert schedule.start_date == dt.datetime(2025, 3, 1, 8, 30, tzinfo=BERLIN)
    assert schedule.end_date == dt.datetime(2025, 4, 1, tzinfo=BERLIN)


def test_yaml_merge_keys_may_share_defaults(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "- &full_name\n"
        "  name: UsrFullNameProcess\n"
        "  quartzDef: '0 0 9 ? * MON'\n"
        "- <<: *full_name\n"
        "  dag_id: full_name_on_fridays\n"
        "  quartzDef: '0 0 9 ? * FRI'\n"
    )
    first, second = load_schedule_file(path)
    assert (first.quartz and first.quartz.cron, second.quartz and second.quartz.cron) == (
        "0 9 * * 1",
        "0 9 * * 5",
    )
    assert second.dag_id == "full_name_on_fridays"


def test_year_field_narrows_the_dates(tmp_path: Path) -> None:
    schedule = load_one(tmp_path, quartzDef="0 0 9 ? * MON 2025", startDate="2024-06-01", endDate=REMOVE)
    assert schedule.earliest_run == dt.datetime(2025, 1, 1, tzinfo=BERLIN)
    assert schedule.latest_run == dt.datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=BERLIN)


def test_empty_files_hold_no_schedule(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("# nothing scheduled yet\n")
    (tmp_path / "empty.json").write_text("")
    assert load_schedule_file(tmp_path / "empty.yaml") == []
    assert load_schedule_file(tmp_path / "empty.json") == []


# ------------------------------------------------------------------------------- when a DAG starts


def test_start_date_rules(tmp_path: Path) -> None:
    before = dt.datetime(2024, 6, 1, tzinfo=UTC)
    after = dt.datetime(2025, 6, 1, tzinfo=UTC)
    start = dt.datetime(2025, 1, 1, tzinfo=BERLIN)
    waits = load_one(tmp_path, runImmediately="N")
    assert waits.dag_start_date(before) == start  # still ahead: it holds the first run back
    assert (
        waits.dag_start_date(after) is None
    )  # passed: kept, it would make Airflow run a missed time at once
    eager = load_one(tmp_path, runImmediately="Y")
    assert eager.dag_start_date(before) == eager.dag_start_date(after) == start
    once = load_one(tmp_path, quartzDef=REMOVE, runOnce="Y", endDate=REMOVE)
    assert once.dag_start_date(after) == start
    at_once = load_one(tmp_path, quartzDef=REMOVE, runOnce="Y", runImmediately="Y", startDate=REMOVE)
    assert at_once.dag_start_date(before) is None


# ------------------------------------------------------------------------------------ refused entries


@pytest.mark.parametrize(
    ("changes", "field", "fragment"),
    [
        ({"worker": 1}, "worker", "unknown key"),
        ({"quartzdef": "0 0 9 ? * MON"}, "quartzdef", "did you mean 'quartzDef'?"),
        ({"name": REMOVE}, "name", "required"),
        ({"name": "Usr Full Name"}, "name", "ASCII letter"),
        ({"name": 42}, "name", "got 42"),
        ({"values": ["John"]}, "values", "mapping of parameter code to value"),
        ({"values": {"User Name": "John"}}, "values", "'User Name'"),
        ({"values": {"UserName": float("nan")}}, "values", "finite number"),
        ({"resultParameters": 5}, "resultParameters", "list of them"),
        ({"resultParameters": ["FullName", "FullName"]}, "resultParameters", "twice"),
        ({"resultParameters": ["Full-Name"]}, "resultParameters", "'Full-Name'"),
        ({"quartzDef": REMOVE}, "quartzDef", "required unless runOnce is Y"),
        ({"quartzDef": "0 15 10 L * ?"}, "quartzDef", "day-of-month field: 'L'"),
        ({"quartzDef": "30 0 9 ? * MON"}, "quartzDef", "seconds field"),
        ({"quartzDef": "0 9 * * 1"}, "quartzDef", "got 5"),
        ({"quartzDef": 5}, "quartzDef", "must be a string"),
        ({"runOnce": "Y"}, "quartzDef", "remove quartzDef or set runOnce: N"),
        ({"runOnce": "maybe"}, "runOnce", "must be Y, N, true or false"),
        ({"runImmediately": "N,"}, "runImmediately", "got 'N,'"),
        ({"runImmediately": 1}, "runImmediately", "got 1"),
        ({"runImmediately": "Y", "run immediately": "Y"}, "runImmediately", "given twice"),
        ({"startDate": "16/11/2020"}, "startDate", "cannot read '16/11/2020'"),
        ({"startDate": "2025-02-30"}, "startDate", "not a real date"),
        ({"startDate": 20250101}, "startDate", "must be a date"),
        ({"endDate": "2025-13-01"}, "endDate", "not a real date"),
        ({"endDate": "2024-12-31"}, "endDate", "is not after startDate"),
        ({"endDate": "2025-01-01 00:00"}, "endDate", "is not after startDate"),
        ({"retryCount": -1}, "retryCount", "must not be negative"),
        ({"retryCount": "-1"}, "retryCount", "whole number >= 0"),
        ({"retryCount": 1.5}, "retryCount", "whole number >= 0"),
        ({"retryCount": True}, "retryCount", "whole number >= 0"),
        ({"dag_id": "full name"}, "dag_id", "letters, digits"),
        ({"tags": "creatio"}, "tags", "list of strings"),
        ({"tags": [""]}, "tags", "1-100 characters"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone", "unknown time zone"),
        ({"timezone": 1}, "timezone", "IANA"),
        ({"creatio_conn_id": "my conn"}, "creatio_conn_id", "without spaces"),
        ({"quartzDef": REMOVE, "runOnce": "Y", "runImmediately": "Y"}, "startDate", "remove startDate"),
        ({"quartzDef": REMOVE, "runOnce": "Y", "startDate": REMOVE}, "startDate", "required for runOnce"),
        ({"quartzDef": "0 0 9 ? * MON 2030"}, "quartzDef", "year field (2030-2030) leaves no time"),
        ({"quartzDef": "0 0 9 ? * MON", "endDate": "2025-01-06 08:00"}, "quartzDef", "fires at no time"),
    ],
)
def test_each_mistake_names_file_entry_and_field(
    tmp_path: Path, changes: dict[str, Any], field: str, fragment: str
) -> None:
    path = write(tmp_path, [entry(dag_id="first"), entry(**changes)])
    with pytest.raises(ScheduleFileError) as caught:
        load_schedule_file(path)
    error = caught.value
    assert (error.file_path, error.index, error.field) == (str(path), 2, field)
    assert f"schedule file {str(path)!r}, entry 2" in str(error)
    assert f"field {field!r}" in str(error)
    assert fragment in str(error)
    name = changes.get("name", GOOD["name"])
    if isinstance(name, str):
        assert error.entry_name == name
        assert f"entry 2 ({name!r})" in str(error)
    else:
        assert error.entry_name is None


def test_the_error_is_a_validation_error(tmp_path: Path) -> None:
    with pytest.raises(CreatioValidationError):
        load_one(tmp_path, retryCount=-1)


def test_a_window_without_any_quartz_time_says_when_the_first_one_is(tmp_path: Path) -> None:
    with pytest.raises(ScheduleFileError) as caught:
        load_one(tmp_path, quartzDef="0 0 9 ? * MON", endDate="2025-01-06 08:00")
    assert "from 2025-01-01 00:00:00 to before 2025-01-06 08:00:00 (Europe/Berlin)" in str(caught.value)
    assert "the first one is 2025-01-06 09:00:00" in str(caught.value)


def test_duplicate_dag_ids_name_both_entries(tmp_path: Path) -> None:
    path = write(tmp_path, [entry(), entry(quartzDef="0 0 10 ? * MON")])
    with pytest.raises(ScheduleFileError) as caught:
        load_schedule_file(path)
    assert (caught.value.index, caught.value.field) == (2, "dag_id")
    assert "'creatio_UsrFullNameProcess' is already used by entry 1" in str(caught.value)


@pytest.mark.parametrize(
    ("local_time", "problem"), [("2025-03-30 02:30", "does not exist"), ("2025-10-26 02:30", "occurs twice")]
)
def test_daylight_saving_gaps_and_repeats_are_refused(tmp_path: Path, local_time: str, problem: str) -> None:
    with pytest.raises(ScheduleFileError) as caught:
        load_one(tmp_path, startDate=local_time)
    assert caught.value.field == "startDate"
    assert f"{problem} in Europe/Berlin" in str(caught.value)
    assert load_one(tmp_path, startDate=f"{local_time}+01:00").start_date is not None


def test_yaml_dates_inside_values_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("- {name: CustomProcess, quartzDef: '0 0 1 * * ?', values: {processParam: 2025-01-01}}\n")
    with pytest.raises(ScheduleFileError) as caught:
        load_schedule_file(path)
    assert caught.value.field == "values"
    assert "values.processParam" in str(caught.value)
    assert "quote dates" in str(caught.value)


# ------------------------------------------------------------------------------------ refused files


def test_seed_004_body_repeats_a_key(tmp_path: Path) -> None:
    with pytest.raises(ScheduleFileError) as caught:
        load_schedule_file(FIXTURES / "seed_004.json")
    assert "found the key 'username' twice" in str(caught.value)


def test_seed_004_schedule_never_fires_in_its_window() -> None:
    """2020-11-16 was a Monday and endDate is the Wednesday after: no Friday 06:06 in between."""
    with pytest.raises(ScheduleFileError) as caught:
        load_schedule_file(FIXTURES / "seed_004_without_duplicate.json")
    assert (caught.value.index, caught.value.entry_name, caught.value.field) == (
        1,
        "OneStepNotepadRunner",
        "quartzDef",
    )
    assert "the first one is 2020-11-20 06:06:00" in str(caught.value)


def test_duplicate_yaml_keys_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("- name: CustomProcess\n  quartzDef: '0 0 1 * * ?'\n  name: UsrFullNameProcess\n")
    with pytest.raises(ScheduleFileError) as caught:
        load_schedule_file(path)
    assert "found the key 'name' twice" in str(caught.value)
    assert "line 3" in str(caught.value)


@pytest.mark.parametrize(
    ("file_name", "text", "fragment"),
    [
        ("s.yaml", "name: CustomProcess\n", "must hold a list of schedule entries, not a dict"),
        ("s.yaml", "- [CustomProcess]\n", "entry 1: an entry must be a mapping"),
        ("s.yaml", "- {name: CustomProcess, quartzDef: * * * ? * *}\n", "not valid YAML"),
        ("s.json", "[{'name': 'CustomProcess'}]", "not valid JSON"),
        ("s.txt", "[]", "must end in .yaml, .yml or .json"),
        ("s.yaml", "- {1: CustomProcess}\n", "keys must be strings"),
    ],
)
def test_unreadable_documents(tmp_path: Path, file_name: str, text: str, fragment: str) -> None:
    path = tmp_path / file_name
    path.write_text(text)
    with pytest.raises(ScheduleFileError) as caught:
        load_schedule_file(path)
    assert str(path) in str(caught.value)
    assert fragment in str(caught.value)


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ScheduleFileError, match="cannot read it"):
        load_schedule_file(tmp_path / "missing.yaml")
