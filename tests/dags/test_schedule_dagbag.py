"""Schedule files turned into DAGs, loaded the way Airflow loads them: through a DagBag, then serialized.

Airflow reads its configuration once per process, and this session's configuration is set up by conftest.py. The
DagBag therefore runs in a child process with its own AIRFLOW_HOME and DAGs folder; it writes what it found to a
JSON file. What is checked is what the scheduler would see: the serialized timetable, start and end dates,
retries, and the first run each DAG would get (``next_dagrun_info`` of the deserialized DAG).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "schedules" / "three_processes.yaml"
EXAMPLE_DAG_FILE = REPO / "example_dags" / "example_creatio_schedules.py"

DAG_FILE = """\
from pathlib import Path

from airflow_provider_creatio.schedules import dags_from_file

globals().update(dags_from_file(Path(__file__).with_name("{schedule_file}")))
"""

# Runs in the child process: bag each path given, describe every DAG, write JSON to the last argument.
INSPECT = """\
import datetime as dt
import json
import sys

from airflow_provider_creatio._compat import DagBag

try:
    from airflow.serialization.serialized_objects import DagSerialization

    def first_run_of(dag):
        return dag.next_dagrun_info(last_automated_run_info=None)
except ImportError:  # Airflow 3.0 and 3.1 (make test-compat)
    from airflow.serialization.serialized_objects import SerializedDAG as DagSerialization

    def first_run_of(dag):
        return dag.next_dagrun_info(None)


def describe(dag):
    encoded = json.loads(json.dumps(DagSerialization.to_dict(dag)))
    before = dt.datetime.now(dt.timezone.utc)
    first_run = first_run_of(DagSerialization.from_dict(encoded))
    (task,) = dag.tasks
    return {
        "fileloc": dag.fileloc,
        "timetable": encoded["dag"]["timetable"],
        "start_date": dag.start_date.isoformat() if dag.start_date else None,
        "end_date": dag.end_date.isoformat() if dag.end_date else None,
        "catchup": dag.catchup,
        "tags": sorted(dag.tags),
        "task_id": task.task_id,
        "task_type": type(task).__name__,
        "retries": task.retries,
        "process_name": task.process_name,
        "creatio_conn_id": task.creatio_conn_id,
        "checked_at": before.isoformat(),
        "first_run_after": first_run.run_after.isoformat() if first_run else None,
    }


report = {}
for path in sys.argv[1:-1]:
    bag = DagBag(dag_folder=path)
    report[path] = {
        "import_errors": {str(key): str(value) for key, value in bag.import_errors.items()},
        "dags": {dag_id: describe(dag) for dag_id, dag in bag.dags.items()},
    }
with open(sys.argv[-1], "w") as out:
    json.dump(report, out)
"""


def _dags_folder(root: Path, name: str, schedule_text: str) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "process_schedules.yaml").write_text(schedule_text, encoding="utf-8")
    (folder / "creatio_schedules.py").write_text(DAG_FILE.format(schedule_file="process_schedules.yaml"))
    return folder


@pytest.fixture(scope="module")
def bagged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One child process bags three things: the fixture file, a broken file, and the example DAG file."""
    if not (REPO / "airflow_provider_creatio" / "operators" / "process.py").exists():
        pytest.fail("airflow_provider_creatio/operators/process.py is missing: the DAGs need its operator")
    root = tmp_path_factory.mktemp("schedule-dagbag")
    good = _dags_folder(root, "good", FIXTURE.read_text(encoding="utf-8"))
    broken = _dags_folder(root, "broken", "- {name: CustomProcess, quartzDef: '0 15 10 L * ?'}\n")
    example = root / "example"
    example.mkdir()
    shutil.copy(EXAMPLE_DAG_FILE, example)
    shutil.copy(EXAMPLE_DAG_FILE.with_name("process_schedules.yaml"), example)
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(root / "airflow-home"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(good),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    output = root / "report.json"
    paths = [str(good), str(broken), str(example / EXAMPLE_DAG_FILE.name)]
    subprocess.run(
        [sys.executable, "-c", INSPECT, *paths, str(output)],
        check=True,
        env=env,
        capture_output=True,
        timeout=120,
    )
    report: dict[str, Any] = json.loads(output.read_text())
    return {"good": report[paths[0]], "broken": report[paths[1]], "example": report[paths[2]]}


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_three_entries_make_three_dags(bagged: dict[str, Any]) -> None:
    good = bagged["good"]
    assert good["import_errors"] == {}
    assert sorted(good["dags"]) == ["custom_every_minute", "custom_mondays_at_once", "full_name_weekly"]
    for dag in good["dags"].values():
        assert dag["fileloc"].endswith("creatio_schedules.py")
        assert (dag["task_id"], dag["task_type"], dag["catchup"]) == (
            "run_process",
            "CreatioRunProcessOperator",
            False,
        )


def test_a_future_start_is_kept_and_end_date_excludes_end_date(bagged: dict[str, Any]) -> None:
    dag = bagged["good"]["dags"]["full_name_weekly"]
    assert dag["timetable"]["__type"] == "airflow.timetables.trigger.CronTriggerTimetable"
    assert dag["timetable"]["__var"] == {
        "expression": "6 6 * * 5",
        "timezone": "Europe/Istanbul",
        "interval": 0.0,
        "run_immediately": 0.0,
    }
    # 2095-01-02 00:00 and 2096-01-01 00:00 in Istanbul (UTC+3); the end is exclusive.
    assert _time(dag["start_date"]) == dt.datetime(2095, 1, 1, 21, tzinfo=dt.timezone.utc)
    assert _time(dag["end_date"]) == dt.datetime(2095, 12, 31, 20, 59, 59, 999999, tzinfo=dt.timezone.utc)
    # The first Friday from 2095-01-02 is 2095-01-07; 06:06 in Istanbul is 03:06 UTC.
    assert _time(dag["first_run_after"]) == dt.datetime(2095, 1, 7, 3, 6, tzinfo=dt.timezone.utc)
    assert (dag["retries"], dag["process_name"], dag["tags"]) == (
        2,
        "UsrFullNameProcess",
        ["creatio", "weekly"],
    )


def test_run_immediately_n_never_starts_with_a_missed_time(bagged: dict[str, Any]) -> None:
    """Every minute, no startDate: Airflow's run_immediately=False would run the minute that just passed."""
    dag = bagged["good"]["dags"]["custom_every_minute"]
    assert dag["timetable"]["__var"]["expression"] == "* * * * *"
    assert (dag["start_date"], dag["end_date"], dag["retries"]) == (None, None, 0)
    assert _time(dag["first_run_after"]) >= _time(dag["checked_at"])
    assert dag["creatio_conn_id"] == "creatio_emulator"


def test_run_immediately_y_runs_the_latest_missed_time_at_once(bagged: dict[str, Any]) -> None:
    dag = bagged["good"]["dags"]["custom_mondays_at_once"]
    assert dag["timetable"]["__var"]["run_immediately"] is True
    assert _time(dag["start_date"]) == dt.datetime(2020, 1, 6, tzinfo=dt.timezone.utc)
    first_run = _time(dag["first_run_after"])
    assert first_run <= _time(dag["checked_at"])  # due already: it runs as soon as the DAG is active
    assert (first_run.weekday(), first_run.hour, first_run.minute) == (0, 3, 0)  # a Monday 03:00 UTC
    assert dag["retries"] == 1


def test_a_bad_schedule_file_is_an_import_error_that_names_entry_and_field(bagged: dict[str, Any]) -> None:
    broken = bagged["broken"]
    assert broken["dags"] == {}
    (message,) = broken["import_errors"].values()
    assert "ScheduleFileError" in message
    assert "process_schedules.yaml', entry 1 ('CustomProcess'), field 'quartzDef'" in message
    assert "day-of-month field: 'L'" in message


def test_the_example_dag_file_makes_one_dag_per_entry(bagged: dict[str, Any]) -> None:
    example = bagged["example"]
    assert example["import_errors"] == {}
    dags = example["dags"]
    assert sorted(dags) == [
        "creatio_custom_process_business_hours",
        "creatio_full_name_once",
        "creatio_full_name_weekly",
    ]
    once = dags["creatio_full_name_once"]
    assert once["timetable"]["__type"] == "airflow.timetables.simple.OnceTimetable"
    # No start_date; on Airflow 3.0, whose @once never runs without one, the schedule file's modification time.
    assert once["start_date"] is None or _time(once["start_date"]) <= _time(once["checked_at"])
    assert _time(once["first_run_after"]) <= dt.datetime.now(dt.timezone.utc)
    business_hours = dags["creatio_custom_process_business_hours"]["timetable"]["__var"]
    assert (business_hours["expression"], business_hours["timezone"]) == (
        "*/15 8-17 * * 1-5",
        "Europe/Berlin",
    )
