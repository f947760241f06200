"""One validated entry of a schedule file, :class:`ProcessSchedule`, and the window in which it may run.

:mod:`airflow_provider_creatio.schedules.validation` makes it from an entry of the file, and
:mod:`airflow_provider_creatio.schedules.dags` turns it into a DAG.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_creatio.schedules.quartz import CronEquivalent

ONE_MICROSECOND = dt.timedelta(microseconds=1)


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
        bounds = [self.end_date - ONE_MICROSECOND] if self.end_date is not None else []
        if self.quartz and self.quartz.last_year is not None:
            bounds.append(dt.datetime(self.quartz.last_year + 1, 1, 1, tzinfo=self._zone) - ONE_MICROSECOND)
        return min(bounds) if bounds else None

    def dag_start_date(self, now: dt.datetime) -> dt.datetime | None:
        """The DAG's ``start_date`` when parsed at ``now``; why it can depend on it:
        :mod:`airflow_provider_creatio.schedules.dags`."""
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
