"""Declarative process schedules: a YAML or JSON file lists Creatio processes to run, and each entry becomes a DAG.

Seed 004 shows what users of process schedulers write: ``name``, ``values``, ``quartzDef``, ``startDate``,
``endDate``, ``runOnce``, ``runImmediately`` and ``retryCount``. Here Airflow does the scheduling. A DAG file
(``example_dags/example_creatio_schedules.py``) does::

    globals().update(dags_from_file(Path(__file__).with_name("process_schedules.yaml")))

and every entry becomes a DAG with one task, ``run_process`` (a ``CreatioRunProcessOperator``).

Keys of an entry (anything else is an error):

========================  =============================================================================
``name``                  process schema code (required)
``values``                input parameters, a mapping of parameter code to a JSON value (default none)
``resultParameters``      output parameter code(s) to read back, a list or one name (default none)
``quartzDef``             Quartz cron expression, converted by :mod:`airflow_provider_creatio.quartz`
                          (required unless ``runOnce`` is Y, refused when it is)
``startDate``             first moment a run may happen (inclusive)
``endDate``               the moment from which the process is not run again (exclusive, seed 004's words)
``runOnce``               Y/N or a boolean (default N)
``runImmediately``        Y/N or a boolean (default N); seed 004 also spells it ``run immediately``
``retryCount``            task retries, an integer >= 0 or a string of digits (default 0)
``dag_id``                default ``creatio_<name>``; set it when one process has several entries
``creatio_conn_id``       Airflow connection id (default: the operator's default, ``creatio_default``)
``tags``                  list of DAG tags (default ``["creatio"]``)
``timezone``              IANA name (default ``UTC``): the zone of the Quartz times and of dates written
                          without an offset
========================  =============================================================================

Dates are ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM[:SS[.ffffff]]`` (``T`` may replace the space), optionally followed by
``Z`` or ``+HH:MM``; YAML's own timestamps are accepted too. A date without an offset is a wall-clock time in
``timezone``; one that does not exist or occurs twice there (daylight-saving changes) is refused.

How each entry is scheduled (every DAG has ``catchup=False``; "deployment" means the moment the DAG is first
active: parsed and unpaused):

* ``runOnce: Y``: ``schedule="@once"``. With ``runImmediately: N`` the single run happens at ``startDate``
  (required), or at deployment if that moment has already passed. With ``runImmediately: Y`` the DAG has no
  ``start_date`` and runs once at deployment; a ``startDate`` would contradict that and is refused. (Airflow 3.0
  never runs ``@once`` without a ``start_date``; there the schedule file's modification time is the start.)
* ``runOnce: N``: a ``CronTriggerTimetable`` built explicitly (a bare cron string would depend on the
  ``[scheduler] create_cron_data_intervals`` option) in the entry's ``timezone``. Runs happen at the Quartz
  times from ``startDate`` (and the year field's first year) on, never at or after ``endDate``.

  - ``runImmediately: Y``: at deployment, the most recent Quartz time that is not before ``startDate`` runs at
    once instead of waiting for the next one (if there is none yet, the first run is the first Quartz time from
    ``startDate`` on). Without a ``startDate`` that is simply the most recent Quartz time.
    This is Airflow's own behaviour for ``catchup=False`` (with ``start_date``) and for
    ``run_immediately=True`` (without).
  - ``runImmediately: N``: the first run is the first Quartz time after deployment, and not before
    ``startDate``. Airflow cannot say this with a fixed ``start_date``: once that date has passed, a
    ``catchup=False`` DAG runs the latest missed time at once. So the DAG carries ``start_date`` only while it
    lies in the future (it is needed then: no run may come earlier) and none once it has passed (it can no longer
    hold anything back), and ``run_immediately=timedelta(0)``: ``False`` would still run a time that passed less
    than max(5 minutes, 10% of the interval) ago, despite Airflow's docstring.
* ``endDate`` becomes ``end_date = endDate - 1 microsecond`` (Airflow's ``end_date`` is inclusive); the year
  field narrows ``start_date``/``end_date`` to its first and last year.
* ``retryCount`` becomes the task's ``retries`` (Airflow's default ``retry_delay``).

A file is validated as a whole, when the DAG file is parsed. Any mistake (unknown key, bad date, bad or inexact
Quartz expression, end before start, a window in which the Quartz expression never fires, bad Y/N, negative
``retryCount``, duplicate ``dag_id`` or YAML/JSON key) raises :class:`ScheduleFileError`, naming the file, the
entry (1-based index and name) and the field, so Airflow shows an import error instead of a DAG that would do
something else.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import math
import os
import re
import zoneinfo
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from airflow_provider_creatio.client.errors import CreatioValidationError
from airflow_provider_creatio.client.validation import check_code
from airflow_provider_creatio.quartz import CronEquivalent, quartz_to_cron

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import DAG

_KEYS = (
    "name",
    "values",
    "resultParameters",
    "quartzDef",
    "startDate",
    "endDate",
    "runOnce",
    "runImmediately",
    "retryCount",
    "dag_id",
    "creatio_conn_id",
    "tags",
    "timezone",
)
_ALIASES = {"run immediately": "runImmediately"}  # seed 004's request body spells it so
_DAG_ID_RE = re.compile(r"[A-Za-z0-9_.\-]{1,250}")  # Airflow's rule for ids
_TAG_MAX_LENGTH = 100  # Airflow's column size for DAG tags
_DATE_RE = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[ T](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,6}))?)?"
    r"(?P<offset>Z|[+-]\d{2}:\d{2})?)?"
)
_YAML_MERGE_TAG = "tag:yaml.org,2002:merge"
_ONE_MICROSECOND = dt.timedelta(microseconds=1)
_FIRST_RUN_SEARCH = dt.timedelta(days=9 * 366)  # long enough to reach any 29 February


class ScheduleFileError(CreatioValidationError):
    """A schedule file that cannot be turned into DAGs that do exactly what it says.

    ``file_path``, ``index`` (1-based), ``entry_name`` and ``field`` say where (``path`` is taken: on every
    :class:`CreatioError` it is the HTTP path, here ``None``); ``index``, ``entry_name`` and ``field``
    are ``None`` when the problem is not tied to one entry or field.
    """

    def __init__(
        self,
        path: str,
        reason: str,
        *,
        index: int | None = None,
        entry_name: str | None = None,
        field: str | None = None,
    ) -> None:
        self.file_path = path
        self.index = index
        self.entry_name = entry_name
        self.field = field
        where = [f"schedule file {path!r}"]
        if index is not None:
            where.append(f"entry {index}" + (f" ({entry_name!r})" if entry_name else ""))
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {reason}")


@dataclass(frozen=True)
class ProcessSchedule:
    """One validated entry of a schedule file. Dates are timezone-aware."""

    dag_id: str
    process_name: str
    parameters: Mapping[str, Any]
    result_parameters: tuple[str, ...]
    quartz: CronEquivalent | None  # None for runOnce
    start_date: dt.datetime | None  # startDate: no run before it
    end_date: dt.datetime | None  # endDate: no run at or after it
    run_once: bool
    run_immediately: bool
    retries: int
    creatio_conn_id: str | None
    tags: tuple[str, ...]
    timezone: str
    source: str = field(compare=False)  # "<file>, entry <n>", for the DAG's documentation

    @property
    def earliest_run(self) -> dt.datetime | None:
        """``startDate``, moved later to the year field's first 1 January if that comes after it."""
        bounds = [self.start_date] if self.start_date is not None else []
        if self.quartz and self.quartz.first_year is not None:
            bounds.append(dt.datetime(self.quartz.first_year, 1, 1, tzinfo=self._zone))
        return max(bounds) if bounds else None

    @property
    def latest_run(self) -> dt.datetime | None:
        """The last moment a run may start (inclusive, as Airflow's ``end_date``): just before ``endDate``, or
        the end of the year field's last year if that comes first."""
        bounds = [self.end_date - _ONE_MICROSECOND] if self.end_date is not None else []
        if self.quartz and self.quartz.last_year is not None:
            bounds.append(dt.datetime(self.quartz.last_year + 1, 1, 1, tzinfo=self._zone) - _ONE_MICROSECOND)
        return min(bounds) if bounds else None

    def dag_start_date(self, now: dt.datetime) -> dt.datetime | None:
        """The DAG's ``start_date`` when parsed at ``now``; see the module docstring for why it can depend on it."""
        earliest = self.earliest_run
        if self.run_once or self.run_immediately:
            return earliest
        return earliest if earliest is not None and earliest > now else None

    @property
    def description(self) -> str:
        if self.quartz is None:
            when = "once, at deployment" if self.run_immediately else f"once, at {self.start_date}"
        else:
            when = f"Quartz {self.quartz.expression!r} (cron {self.quartz.cron!r}, {self.timezone})"
        return f"Creatio process {self.process_name}: {when}"

    @property
    def _zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


def load_schedule_file(path: str | os.PathLike[str]) -> list[ProcessSchedule]:
    """The validated entries of a YAML (``.yaml``/``.yml``) or JSON (``.json``) schedule file.

    The file holds a list of entries (an empty file means no schedule). Raises :class:`ScheduleFileError`.
    """
    where = str(path)
    document = _read_document(Path(path), where)
    if document is None:
        return []
    if not isinstance(document, list):
        raise ScheduleFileError(
            where, f"the file must hold a list of schedule entries, not a {type(document).__name__}"
        )
    schedules: list[ProcessSchedule] = []
    first_entry_of: dict[str, int] = {}
    for index, raw in enumerate(document, start=1):
        schedule = _EntryReader(where, index, raw).read()
        if schedule.dag_id in first_entry_of:
            raise ScheduleFileError(
                where,
                f"dag_id {schedule.dag_id!r} is already used by entry {first_entry_of[schedule.dag_id]}; "
                "give each entry its own dag_id",
                index=index,
                entry_name=schedule.process_name,
                field="dag_id",
            )
        first_entry_of[schedule.dag_id] = index
        schedules.append(schedule)
    return schedules


def build_dag(schedule: ProcessSchedule, file_modified: dt.datetime) -> DAG:
    """The DAG that runs ``schedule``'s process on its schedule; one task, ``run_process``.

    ``file_modified``: when the schedule file was last written, the start of a run-once-at-deployment DAG on an
    Airflow that never runs ``@once`` without a ``start_date`` (3.0): it has passed, so the run comes at once, and it
    stays the same at every parse (a parse-time start would make a new DAG version at every parse)."""
    # Imported here so that loading and validating a schedule file needs neither Airflow nor the operator.
    from airflow_provider_creatio._compat import DAG, CronTriggerTimetable, once_runs_without_start_date
    from airflow_provider_creatio.operators.process import CreatioRunProcessOperator

    if schedule.quartz is None:
        timetable: Any = "@once"
    else:
        timetable = CronTriggerTimetable(
            schedule.quartz.cron,
            timezone=schedule.timezone,
            # timedelta(0), not False: see the module docstring.
            run_immediately=True if schedule.run_immediately else dt.timedelta(0),
        )
    start_date = schedule.dag_start_date(dt.datetime.now(dt.timezone.utc))
    if start_date is None and schedule.run_once and not once_runs_without_start_date():
        start_date = file_modified
    dag = DAG(
        dag_id=schedule.dag_id,
        schedule=timetable,
        start_date=start_date,
        end_date=schedule.latest_run,
        catchup=False,
        tags=list(schedule.tags),
        description=schedule.description,
        doc_md=f"Generated from {schedule.source} by `airflow_provider_creatio.schedules`.",
    )
    CreatioRunProcessOperator(
        task_id="run_process",
        dag=dag,
        process_name=schedule.process_name,
        parameters=dict(schedule.parameters),
        result_parameters=list(schedule.result_parameters),
        retries=schedule.retries,
        creatio_conn_id=schedule.creatio_conn_id or CreatioRunProcessOperator.default_conn_id,
    )
    return dag


def dags_from_file(path: str | os.PathLike[str]) -> dict[str, DAG]:
    """``{dag_id: DAG}`` for every entry of a schedule file, ready for ``globals().update(...)`` in a DAG file."""
    modified = dt.datetime.fromtimestamp(os.stat(path).st_mtime, dt.timezone.utc)
    return {schedule.dag_id: build_dag(schedule, modified) for schedule in load_schedule_file(path)}


# ---------------------------------------------------------------------------------------------- file reading


class _StrictYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key repeated in one mapping is an error instead of last-one-wins."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Hashable] = set()
        for key_node, _ in node.value:
            if key_node.tag == _YAML_MERGE_TAG:
                continue  # "<<: *defaults" merges keys that the entry may override; that is not a repeat
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # the base class reports unhashable keys
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found the key {key!r} twice",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_document(path: Path, where: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ScheduleFileError(where, f"cannot read it: {err}") from err
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            return (
                json.loads(text, object_pairs_hook=_json_object_without_duplicates) if text.strip() else None
            )
        if suffix in (".yaml", ".yml"):
            return yaml.load(text, Loader=_StrictYamlLoader)  # noqa: S506 - a SafeLoader subclass
    except (ValueError, yaml.YAMLError) as err:
        raise ScheduleFileError(where, f"not valid {suffix[1:].upper()}: {err}") from err
    raise ScheduleFileError(where, "the file name must end in .yaml, .yml or .json")


def _json_object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"found the key {key!r} twice in one object")
        result[key] = value
    return result


# -------------------------------------------------------------------------------------------- entry reading


class _EntryReader:
    """Reads and checks one entry; every error names the file, the entry and the field."""

    def __init__(self, path: str, index: int, raw: object) -> None:
        self.path = path
        self.index = index
        self.raw = raw
        self.name: str | None = None

    def error(self, field_name: str | None, reason: str) -> ScheduleFileError:
        return ScheduleFileError(self.path, reason, index=self.index, entry_name=self.name, field=field_name)

    def read(self) -> ProcessSchedule:
        entry = self._keys()
        self.name = self._name(entry.get("name"))
        zone_name = self._timezone(entry.get("timezone", "UTC"))
        run_once = self._yes_no("runOnce", entry.get("runOnce", False))
        run_immediately = self._yes_no("runImmediately", entry.get("runImmediately", False))
        quartz = self._quartz(entry.get("quartzDef"), run_once)
        zone = zoneinfo.ZoneInfo(zone_name)
        start = self._date("startDate", entry.get("startDate"), zone)
        end = self._date("endDate", entry.get("endDate"), zone)
        self._check_once_start(run_once, run_immediately, start)
        schedule = ProcessSchedule(
            dag_id=self._dag_id(entry.get("dag_id", f"creatio_{self.name}")),
            process_name=self.name,
            parameters=self._values(entry.get("values", {})),
            result_parameters=self._result_parameters(entry.get("resultParameters", [])),
            quartz=quartz,
            start_date=start,
            end_date=end,
            run_once=run_once,
            run_immediately=run_immediately,
            retries=self._retry_count(entry.get("retryCount", 0)),
            creatio_conn_id=self._conn_id(entry.get("creatio_conn_id")),
            tags=self._tags(entry.get("tags", ["creatio"])),
            timezone=zone_name,
            source=f"{self.path}, entry {self.index}",
        )
        self._check_window(schedule)
        return schedule

    def _keys(self) -> dict[str, Any]:
        if not isinstance(self.raw, Mapping):
            raise self.error(
                None, f"an entry must be a mapping of keys to values, not a {type(self.raw).__name__}"
            )
        written_name = self.raw.get("name")
        self.name = (
            written_name if isinstance(written_name, str) else None
        )  # for messages until it is checked
        entry: dict[str, Any] = {}
        for key, value in self.raw.items():
            canonical = _ALIASES.get(key, key) if isinstance(key, str) else key
            if canonical not in _KEYS:
                raise self.error(str(key), _unknown_key_reason(key))
            if canonical in entry:
                raise self.error(canonical, f"given twice, as {canonical!r} and as {key!r}")
            entry[canonical] = value
        return entry

    def _name(self, value: object) -> str:
        if value is None:
            raise self.error("name", "required: the code of the process schema to run")
        return self._code("name", value)

    def _code(self, field_name: str, value: object, argument: str | None = None) -> str:
        try:
            return check_code(value, argument or field_name)
        except CreatioValidationError as err:
            raise self.error(field_name, err.message) from err

    def _timezone(self, value: object) -> str:
        if not isinstance(value, str):
            raise self.error(
                "timezone", f"must be an IANA time zone name such as 'Europe/Berlin', got {value!r}"
            )
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as err:
            raise self.error(
                "timezone", f"unknown time zone {value!r} (use an IANA name such as 'UTC')"
            ) from err
        return value

    def _yes_no(self, field_name: str, value: object) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.upper() in ("Y", "N"):
            return value.upper() == "Y"
        raise self.error(field_name, f"must be Y, N, true or false, got {value!r}")

    def _quartz(self, value: object, run_once: bool) -> CronEquivalent | None:
        if run_once:
            if value is not None:
                raise self.error(
                    "quartzDef",
                    "runOnce: Y runs the process a single time (at startDate, or at deployment with "
                    "runImmediately: Y), so a Quartz schedule would be ignored; remove quartzDef or set runOnce: N",
                )
            return None
        if value is None:
            raise self.error("quartzDef", "required unless runOnce is Y")
        if not isinstance(value, str):
            raise self.error("quartzDef", f"must be a string (quote it in YAML), got {value!r}")
        try:
            return quartz_to_cron(value)
        except CreatioValidationError as err:
            raise self.error("quartzDef", err.message) from err

    def _date(self, field_name: str, value: object, zone: zoneinfo.ZoneInfo) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            moment = value
        elif isinstance(value, dt.date):
            moment = dt.datetime(value.year, value.month, value.day)
        elif isinstance(value, str):
            moment = self._parse_date_text(field_name, value)
        else:
            raise self.error(field_name, f"must be a date such as '2024-11-16 16:56:00', got {value!r}")
        if moment.tzinfo is not None:
            return moment
        return self._localize(field_name, moment, zone)

    def _parse_date_text(self, field_name: str, text: str) -> dt.datetime:
        match = _DATE_RE.fullmatch(text.strip())
        if match is None:
            raise self.error(
                field_name,
                f"cannot read {text!r}: write YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS], optionally with Z or +HH:MM",
            )
        parts = match.groupdict()
        try:
            moment = dt.datetime(
                int(parts["year"]),
                int(parts["month"]),
                int(parts["day"]),
                int(parts["hour"] or 0),
                int(parts["minute"] or 0),
                int(parts["second"] or 0),
                int((parts["fraction"] or "0").ljust(6, "0")),
            )
        except ValueError as err:
            raise self.error(field_name, f"{text!r} is not a real date or time: {err}") from err
        offset = parts["offset"]
        if offset is None:
            return moment
        if offset == "Z":
            return moment.replace(tzinfo=dt.timezone.utc)
        sign = -1 if offset[0] == "-" else 1
        delta = dt.timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6]))
        return moment.replace(tzinfo=dt.timezone(sign * delta))

    def _localize(self, field_name: str, moment: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
        earlier = moment.replace(tzinfo=zone, fold=0)
        if earlier.utcoffset() == moment.replace(tzinfo=zone, fold=1).utcoffset():
            return earlier
        round_trip = earlier.astimezone(dt.timezone.utc).astimezone(zone).replace(tzinfo=None)
        problem = "does not exist" if round_trip != moment else "occurs twice"
        raise self.error(
            field_name,
            f"{moment.isoformat(sep=' ')} {problem} in {zone.key} (a daylight-saving change); "
            "write it with an explicit offset such as +01:00",
        )

    def _check_once_start(self, run_once: bool, run_immediately: bool, start: dt.datetime | None) -> None:
        if not run_once:
            return
        if run_immediately and start is not None:
            raise self.error(
                "startDate",
                "runOnce: Y with runImmediately: Y runs the process once at deployment, which a startDate would "
                "contradict; remove startDate, or set runImmediately: N to run once at startDate",
            )
        if not run_immediately and start is None:
            raise self.error(
                "startDate",
                "required for runOnce: Y with runImmediately: N (it is when the single run happens); "
                "or set runImmediately: Y to run once at deployment",
            )

    def _values(self, value: object) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise self.error("values", f"must be a mapping of parameter code to value, got {value!r}")
        return {
            self._code("values", key, "each key of values"): self._json_value(item, f"values.{key}")
            for key, item in value.items()
        }

    def _json_value(self, value: object, where: str) -> Any:
        """``value`` if it is plain JSON data. YAML dates are refused: their time zone would be a guess."""
        if value is None or isinstance(value, (str, bool, int)):
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise self.error("values", f"{where} must be a finite number, got {value!r}")
            return value
        if isinstance(value, list):
            return [self._json_value(item, f"{where}[{position}]") for position, item in enumerate(value)]
        if isinstance(value, Mapping):
            if not all(isinstance(key, str) for key in value):
                raise self.error("values", f"{where} has a key that is not a string")
            return {key: self._json_value(item, f"{where}.{key}") for key, item in value.items()}
        hint = " (quote dates in YAML to send them as written)" if isinstance(value, dt.date) else ""
        raise self.error("values", f"{where} must be a string, number, boolean, null, list or mapping{hint}")

    def _result_parameters(self, value: object) -> tuple[str, ...]:
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list):
            raise self.error("resultParameters", f"must be a parameter code or a list of them, got {value!r}")
        codes = tuple(self._code("resultParameters", name) for name in names)
        if len(set(codes)) != len(codes):
            raise self.error("resultParameters", f"lists a parameter twice: {list(codes)}")
        return codes

    def _retry_count(self, value: object) -> int:
        if isinstance(value, str) and value.isdigit():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 0:
                raise self.error("retryCount", f"must not be negative, got {value}")
            return value
        raise self.error("retryCount", f"must be a whole number >= 0, got {value!r}")

    def _dag_id(self, value: object) -> str:
        if not isinstance(value, str) or not _DAG_ID_RE.fullmatch(value):
            raise self.error(
                "dag_id", f"must be 1-250 letters, digits, '_', '.' or '-' (Airflow's rule), got {value!r}"
            )
        return value

    def _conn_id(self, value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value or any(char.isspace() for char in value):
            raise self.error("creatio_conn_id", f"must be a connection id without spaces, got {value!r}")
        return value

    def _tags(self, value: object) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.error("tags", f"must be a list of strings, got {value!r}")
        for tag in value:
            if not isinstance(tag, str) or not 1 <= len(tag) <= _TAG_MAX_LENGTH:
                raise self.error(
                    "tags", f"each tag must be a string of 1-{_TAG_MAX_LENGTH} characters, got {tag!r}"
                )
        return tuple(value)

    def _check_window(self, schedule: ProcessSchedule) -> None:
        if schedule.start_date and schedule.end_date and schedule.end_date <= schedule.start_date:
            raise self.error(
                "endDate",
                f"{schedule.end_date.isoformat(sep=' ')} is not after startDate "
                f"{schedule.start_date.isoformat(sep=' ')}, so the process would never run",
            )
        earliest, latest = schedule.earliest_run, schedule.latest_run
        if schedule.quartz is None or earliest is None or latest is None:
            return
        if latest < earliest:
            raise self.error(
                "quartzDef",
                f"its year field ({schedule.quartz.first_year}-{schedule.quartz.last_year}) leaves no time "
                "between startDate and endDate, so the process would never run",
            )
        zone = zoneinfo.ZoneInfo(schedule.timezone)
        start_local = earliest.astimezone(zone).replace(tzinfo=None)
        end_local = latest.astimezone(zone).replace(tzinfo=None)
        if next(schedule.quartz.fire_times(start_local, end_local), None) is None:
            following = next(schedule.quartz.fire_times(start_local, start_local + _FIRST_RUN_SEARCH), None)
            after = f"; the first one is {following.isoformat(sep=' ')}" if following else ""
            raise self.error(
                "quartzDef",
                f"{schedule.quartz.expression!r} fires at no time from {start_local.isoformat(sep=' ')} to "
                f"before {(end_local + _ONE_MICROSECOND).isoformat(sep=' ')} ({schedule.timezone}){after}, "
                "so the process would never run",
            )


def _unknown_key_reason(key: object) -> str:
    if not isinstance(key, str):
        return f"keys must be strings, got {key!r}"
    close = difflib.get_close_matches(key, [*_KEYS, *_ALIASES], n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key{hint} (allowed: {', '.join(_KEYS)})"
