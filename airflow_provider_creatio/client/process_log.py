"""The process log: the ``SysProcessLog`` and ``SysProcessElementLog`` rows of process instances, read through
OData. No I/O here.

A process started through :mod:`process` is followed by reading its row: :func:`get_process_log` gives the state of
an instance, :func:`get_process_element` the state of one element and the process it belongs to.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from airflow_provider_creatio.client import validation
from airflow_provider_creatio.client.http import ApiResponse, Call
from airflow_provider_creatio.client.odata import get_record
from airflow_provider_creatio.client.process import answer_error, text_or_none
from airflow_provider_creatio.client.process_state import FINAL_STATES, ProcessState

EntryT = TypeVar("EntryT")


# --- states -------------------------------------------------------------------------------------------------


# The SysProcessStatus ids, the same on every Creatio site (CREATIO_API.md, "Following a process instance").
PROCESS_STATUS_IDS: Mapping[ProcessState, str] = {
    ProcessState.RUNNING: "ed2ae277-b6e2-df11-971b-001d60e938c6",
    ProcessState.COMPLETED: "815c9586-b6e2-df11-971b-001d60e938c6",
    ProcessState.ERROR: "f942c08d-b6e2-df11-971b-001d60e938c6",
    ProcessState.CANCELED: "1be78f3e-234d-4d6a-869a-dc07253fd2f3",
    ProcessState.INACTIVE: "67700d9c-28ac-46ef-9037-b81a53b7b330",
    ProcessState.CANCELLING: "006f6d7a-6d9a-4e8c-bf5f-2ddac8b3df9a",
}
_STATE_BY_ID = {status_id: state for state, status_id in PROCESS_STATUS_IDS.items()}


def state_from_status_id(status_id: object) -> ProcessState:
    """The state named by a ``SysProcessStatus`` id (any GUID spelling); UNKNOWN for anything else."""
    if not validation.is_guid(status_id):
        return ProcessState.UNKNOWN
    return _STATE_BY_ID.get(validation.parse_guid(status_id, "StatusId"), ProcessState.UNKNOWN)


# --- log rows -----------------------------------------------------------------------------------------------

_DATE_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?",
    re.IGNORECASE,
)


def parse_creatio_datetime(value: object) -> dt.datetime | None:
    """An aware UTC datetime from Creatio's ISO text (up to 7 fractional digits; no zone means UTC). None, an
    empty string and ``0001-01-01...`` (Creatio's "no date") give None; anything else raises ValueError."""
    if value is None or value == "":
        return None
    match = _DATE_RE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"not a date: {validation.shown(value)}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    if year == "0001":
        return None
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    moment = dt.datetime(
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        micro,
        dt.timezone.utc,
    )
    if zone and zone.upper() != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        moment -= sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return moment


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else validation.utc_iso(value)


@dataclass(frozen=True)
class ProcessLogEntry:
    """A ``SysProcessLog`` row: one process instance."""

    process_id: str
    state: ProcessState
    name: str | None = None
    error_description: str | None = None
    start_date: dt.datetime | None = None
    complete_date: dt.datetime | None = None
    status_id: str | None = None

    @property
    def is_final(self) -> bool:
        """Completed, Error or Canceled. A Running row without CompleteDate may wait on a user task."""
        return self.state in FINAL_STATES

    def to_dict(self) -> dict[str, Any]:
        return {
            "process_id": self.process_id,
            "state": self.state.value,
            "name": self.name,
            "error_description": self.error_description,
            "start_date": _iso(self.start_date),
            "complete_date": _iso(self.complete_date),
            "status_id": self.status_id,
            "is_final": self.is_final,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProcessLogEntry:
        """The entry :meth:`to_dict` gave (a trigger event carries it back to the task)."""
        return cls(
            process_id=str(data["process_id"]),
            state=ProcessState(data["state"]),
            name=data.get("name"),
            error_description=data.get("error_description"),
            start_date=parse_creatio_datetime(data.get("start_date")),
            complete_date=parse_creatio_datetime(data.get("complete_date")),
            status_id=data.get("status_id"),
        )


@dataclass(frozen=True)
class ProcessElementEntry:
    """A ``SysProcessElementLog`` row: one element of a process instance."""

    element_uid: str
    process_id: str | None
    state: ProcessState
    name: str | None = None
    caption: str | None = None
    start_date: dt.datetime | None = None
    complete_date: dt.datetime | None = None
    status_id: str | None = None

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    def to_dict(self) -> dict[str, Any]:
        return {
            "element_uid": self.element_uid,
            "process_id": self.process_id,
            "state": self.state.value,
            "name": self.name,
            "caption": self.caption,
            "start_date": _iso(self.start_date),
            "complete_date": _iso(self.complete_date),
            "status_id": self.status_id,
            "is_final": self.is_final,
        }


PROCESS_LOG_COLUMNS = ("Id", "Name", "StatusId", "StartDate", "CompleteDate", "ErrorDescription")
ELEMENT_LOG_COLUMNS = ("Id", "SysProcessId", "Name", "Caption", "StatusId", "StartDate", "CompleteDate")


def _guid_or_none(value: object) -> str | None:
    return validation.parse_guid(value, "id") if validation.is_guid(value) else None


def process_log_entry(record: Mapping[str, Any]) -> ProcessLogEntry:
    """A :class:`ProcessLogEntry` from a SysProcessLog record; ValueError when Id or a date is unreadable."""
    status_id = _guid_or_none(record.get("StatusId"))
    return ProcessLogEntry(
        process_id=validation.parse_guid(record.get("Id"), "Id"),
        state=state_from_status_id(status_id),
        name=text_or_none(record.get("Name")),
        error_description=text_or_none(record.get("ErrorDescription")),
        start_date=parse_creatio_datetime(record.get("StartDate")),
        complete_date=parse_creatio_datetime(record.get("CompleteDate")),
        status_id=status_id,
    )


def process_element_entry(record: Mapping[str, Any]) -> ProcessElementEntry:
    """A :class:`ProcessElementEntry` from a SysProcessElementLog record."""
    status_id = _guid_or_none(record.get("StatusId"))
    return ProcessElementEntry(
        element_uid=validation.parse_guid(record.get("Id"), "Id"),
        process_id=_guid_or_none(record.get("SysProcessId")),
        state=state_from_status_id(status_id),
        name=text_or_none(record.get("Name")),
        caption=text_or_none(record.get("Caption")),
        start_date=parse_creatio_datetime(record.get("StartDate")),
        complete_date=parse_creatio_datetime(record.get("CompleteDate")),
        status_id=status_id,
    )


def get_process_log(process_id: str | uuid.UUID) -> Call[ProcessLogEntry]:
    """GET ``SysProcessLog(<id>)``: the state of a process instance (404 when Creatio has no such row)."""
    base = get_record("SysProcessLog", process_id, select=PROCESS_LOG_COLUMNS)
    operation = f"read the log of process {validation.parse_guid(process_id, 'process_id')}"
    return _mapped(base, operation, process_log_entry)


def get_process_element(element_uid: str | uuid.UUID) -> Call[ProcessElementEntry]:
    """GET ``SysProcessElementLog(<uid>)``: the state of one process element and the process it belongs to."""
    base = get_record("SysProcessElementLog", element_uid, select=ELEMENT_LOG_COLUMNS)
    operation = f"read the log of process element {validation.parse_guid(element_uid, 'element_uid')}"
    return _mapped(base, operation, process_element_entry)


def _mapped(
    base: Call[dict[str, Any]], operation: str, build: Callable[[Mapping[str, Any]], EntryT]
) -> Call[EntryT]:
    def parse(response: ApiResponse) -> EntryT:
        record = base.parse(response)
        try:
            return build(record)
        except ValueError as exc:  # CreatioValidationError included: a bad Id in the row
            raise answer_error(response, operation, f"unexpected log row: {exc}") from None

    return Call(replace(base.request, operation=operation), parse)
