"""The checks that turn one entry of a schedule file into a :class:`ProcessSchedule`, or refuse it.

Keys of an entry (anything else is an error):

========================  =============================================================================
``name``                  process schema code (required)
``values``                input parameters, a mapping of parameter code to a JSON value (default none)
``resultParameters``      output parameter code(s) to read back, a list or one name (default none)
``quartzDef``             Quartz cron expression, converted by :mod:`airflow_provider_creatio.schedules.quartz`
                          (required unless ``runOnce`` is Y, refused when it is)
``startDate``             first moment a run may happen (inclusive)
``endDate``               the moment from which the process is not run again (exclusive, the scheduler API's words)
``runOnce``               Y/N or a boolean (default N)
``runImmediately``        Y/N or a boolean (default N); the scheduler API also spells it ``run immediately``
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
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import zoneinfo
from collections.abc import Mapping
from typing import Any

from airflow_provider_creatio.client.errors import CreatioValidationError
from airflow_provider_creatio.client.validation import check_code
from airflow_provider_creatio.schedules.entry import ONE_MICROSECOND, ProcessSchedule
from airflow_provider_creatio.schedules.errors import ScheduleFileError
from airflow_provider_creatio.schedules.quartz import CronEquivalent, quartz_to_cron

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
_ALIASES = {"run immediately": "runImmediately"}  # the scheduler API's request body spells it so
_DAG_ID_RE = re.compile(r"[A-Za-z0-9_.\-]{1,250}")  # Airflow's rule for ids
_TAG_MAX_LENGTH = 100  # Airflow's column size for DAG tags
_DATE_RE = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[ T](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,6}))?)?"
    r"(?P<offset>Z|[+-]\d{2}:\d{2})?)?"
)
_FIRST_RUN_SEARCH = dt.timedelta(days=9 * 366)  # long enough to reach any 29 February


class EntryReader:
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
                f"before {(end_local + ONE_MICROSECOND).isoformat(sep=' ')} ({schedule.timezone}){after}, "
                "so the process would never run",
            )


def _unknown_key_reason(key: object) -> str:
    if not isinstance(key, str):
        return f"keys must be strings, got {key!r}"
    close = difflib.get_close_matches(key, [*_KEYS, *_ALIASES], n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown key{hint} (allowed: {', '.join(_KEYS)})"
