"""Keyset paging, the protocol decisions only: which ``$filter``/``$orderby``/``$top`` to ask next, and what a page
that came back means. No I/O here (``paging.iter_keyset`` sends the requests).

``$skip`` makes a SQL database read ``skip + top`` rows per page, so N rows in pages of p cost about N²/2p rows
read. A keyset page asks for the rows *after the last one seen* in an indexed order, which the database answers with
one range seek of ``top`` rows:

- a full extract orders by ``Id`` and asks ``Id gt <last Id>``;
- an incremental one orders by ``ModifiedOn,Id`` and asks ``(ModifiedOn gt T) or (ModifiedOn eq T and Id gt <last>)``.

Both compare GUIDs on the server, in the order the server's own ``$orderby=Id`` uses (SQL Server sorts a
uniqueidentifier by its last six bytes first, PostgreSQL byte by byte): the client never compares two GUIDs itself,
so the order does not matter, only that the server compares them (see
``docs/creatio-notes/keyset-paging-and-guid-order.md``). For a site that refuses GUID comparisons,
``guid_comparison=False`` pages on the date column alone: a page ends before its last date, whose rows come again
at the start of the next page (``C ge T``), and a page made of one date only is followed by one request for every
row of that date (``C eq T``, at most :data:`MAX_PAGE_SIZE`). A full extract then pages on ``CreatedOn``, which an
edit does not move.

No Creatio source says that a site compares GUIDs with ``gt``. A cursor that compares them sends its first GUID
comparison as soon as it has one record to start after; a site that refuses it (:func:`refuses_guid_comparison`)
makes the reader call :meth:`KeysetCursor.fall_back`, which goes on on the date column alone from the cursor's start,
leaving out the records already handed out (at most one page: the refusal comes at the first comparison).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from airflow_provider_creatio.client import validation
from airflow_provider_creatio.client.errors import (
    CreatioBadRequestError,
    CreatioError,
    CreatioResponseError,
    CreatioValidationError,
)

MAX_PAGE_SIZE = 20_000  # Creatio's MaxEntityRowCount: one answer never holds more
DEFAULT_KEYSET_PAGE_SIZE = 5_000
# Where a full read pages without GUID comparison: an edit does not move it, as it moves ModifiedOn.
CREATED_COLUMN = "CreatedOn"
# Microsoft's ASP.NET OData answer to ``Id gt <guid>`` on a model whose Guid has no ordering.
_GUID_REFUSAL = "Found operand types 'Edm.Guid' and 'Edm.Guid'"
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})")


def refuses_guid_comparison(error: CreatioError) -> bool:
    """Whether the server refused a request because it compares two GUIDs with an ordering operator."""
    said = error.server_message or error.message
    return isinstance(error, CreatioBadRequestError) and _GUID_REFUSAL in said


def check_page_size(page_size: object) -> int:
    """A page size Creatio can answer whole: 1 to 20,000 (its MaxEntityRowCount; a larger page comes back cut)."""
    return validation.check_count(page_size, "page_size", maximum=MAX_PAGE_SIZE)


def is_date_time(value: object) -> TypeGuard[str]:
    """Whether ``value`` is an ISO 8601 date-time with its zone (``2025-01-31T08:00:00Z``)."""
    return isinstance(value, str) and _DATE_TIME.fullmatch(value) is not None


def check_date_time(value: object, argument: str) -> str:
    """An ISO 8601 date-time with its zone (``2025-01-31T08:00:00Z``), as ``$filter`` compares it."""
    if not is_date_time(value):
        raise CreatioValidationError(
            f"{argument} must be an ISO 8601 date-time with a zone (2025-01-31T08:00:00Z), got {validation.shown(value)}"
        )
    return value


def filter_date_time(moment: dt.datetime) -> str:
    """A moment as ``$filter`` compares it: unquoted ISO 8601 in UTC, microseconds kept (bounds meet exactly)."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_date_time(text: str) -> dt.datetime:
    """The aware moment of a date-time :func:`check_date_time` accepts. Creatio's seventh fraction digit is cut
    (a datetime holds microseconds), and parsed here because ``fromisoformat`` takes neither it nor ``Z`` before
    Python 3.11."""
    match = _DATE_TIME.fullmatch(check_date_time(text, "a date-time"))
    assert match is not None  # checked just above
    fraction, zone = (match.group(1) or ".")[1:], match.group(2)
    offset = "+00:00" if zone == "Z" else zone
    return dt.datetime.fromisoformat(f"{text[:19]}.{fraction[:6]:0<6}{offset}")


@dataclass(frozen=True)
class PageRequest:
    """The query options of the next page; ``filter`` is the keyset condition alone (None: from the start)."""

    filter: str | None
    orderby: str
    top: int


class KeysetCursor:
    """Where a keyset read stands. Ask :meth:`next_request`, send it, hand the records to :meth:`take`, which
    returns those to pass on; stop when :attr:`done`.

    ``column``: the date column to order by first (``ModifiedOn``), or None to page on ``Id`` alone.
    ``after``: where to start, ``(date, Id)`` of a record already seen (the records after it in the order), or
    ``(date, None)`` for the records from that date on (the date itself included); None: from the start.
    Needs a date column. Without GUID comparison, ``(date, Id)`` starts after every record of that date: it is
    the last record of a read that ended, which read every record of its date (an ended read leaves nothing of
    its last date unread)."""

    def __init__(
        self,
        column: str | None,
        page_size: int,
        *,
        guid_comparison: bool = True,
        after: tuple[str, str | None] | None = None,
    ) -> None:
        if column is not None:
            validation.check_column_path(column, "keyset column")
        if column is None and not guid_comparison:
            raise CreatioValidationError("paging on Id alone needs guid_comparison; give a date column")
        if after is not None and column is None:
            raise CreatioValidationError("starting after a position needs a date column")
        self.column = column
        self.page_size = check_page_size(page_size)
        self.guid_comparison = guid_comparison
        self.done = False
        self._start: tuple[str, str | None] | None = None
        if after is not None:
            date, last_id = after
            self._start = (
                check_date_time(date, "the keyset start"),
                None if last_id is None else validation.parse_guid(last_id, "Id"),
            )
        # (last date, last Id) with guid_comparison; (date, None) only as a start: from that date on
        self._after: tuple[str | None, str | None] | None = self._start if guid_comparison else None
        # ("gt" or "ge", date) without
        self._from: tuple[str, str] | None = None if guid_comparison else self._date_only_start()
        self._whole_date: str | None = None  # the date whose rows are read in one request next
        # The Ids handed out before the server answered a GUID comparison (None once it has, or without one),
        # and, after a fall-back, those to leave out when they come again.
        self._unproven: set[str] | None = set() if guid_comparison else None
        self._handed: frozenset[str] = frozenset()
        self._asked_guids = False  # whether the request last built compares GUIDs

    @property
    def position(self) -> tuple[str | None, str | None] | None:
        """``(date, Id)`` of the last record taken (the start when none was), None when reading from the start;
        with guid_comparison only."""
        return self._after

    @property
    def selected(self) -> tuple[str, ...]:
        """The columns every page must carry for the cursor to move on."""
        return ("Id",) if self.column is None else ("Id", self.column)

    def widest_condition(self) -> str:
        """The keyset condition of most nodes this cursor can send (with stand-in values): a caller's filter
        and-ed with it is measured against the node limit before the first page, not refused half way."""
        date, last_id = "2000-01-01T00:00:00Z", "00000000-0000-0000-0000-000000000000"
        if not self.guid_comparison:
            return f"{self.column} ge {date}"
        if self.column is None:
            return f"Id gt {last_id}"
        return f"(({self.column} gt {date}) or ({self.column} eq {date} and Id gt {last_id}))"

    def next_request(self) -> PageRequest:
        if self.done:
            raise RuntimeError("the keyset read is over")
        self._asked_guids = self.guid_comparison and self._after is not None and self._after[1] is not None
        if self._whole_date is not None:
            return PageRequest(f"{self.column} eq {self._whole_date}", "Id", MAX_PAGE_SIZE)
        orderby = "Id" if self.column is None else f"{self.column},Id"
        return PageRequest(self._condition(), orderby, self.page_size)

    @property
    def resizable(self) -> bool:
        """Whether the request last built asks for ``page_size`` rows: a whole date's request asks for every row
        of that date, which come in one answer or cannot be split (without GUID comparison)."""
        return self._whole_date is None

    def resize(self, page_size: int) -> None:
        """Ask pages of ``page_size`` from the next request on. The position does not move, so the next request
        asks again for the page whose answer was refused."""
        self.page_size = check_page_size(page_size)

    def take(self, records: Sequence[dict[str, Any]]) -> Sequence[dict[str, Any]]:
        """The records of the page just read that belong to the output, in order; moves the cursor on."""
        taken = self._take(records)
        if self._handed:
            taken = [record for record in taken if record.get("Id") not in self._handed]
        if self._asked_guids:
            self._unproven = None  # the server compares GUIDs
        elif self._unproven is not None:
            self._unproven.update(self._id(record) for record in taken)
        return taken

    def can_fall_back(self, error: CreatioError) -> bool:
        """Whether ``error``, the answer to the request last built, is a refusal to compare GUIDs that
        :meth:`fall_back` can go on from: its first GUID comparison."""
        return self._at_first_comparison and refuses_guid_comparison(error)

    def fall_back(self) -> None:
        """Go on without GUID comparison, on the date column (``CreatedOn`` when paging on ``Id`` alone), from the
        start, leaving out the records already handed out. Call it when :meth:`can_fall_back`."""
        if not self._at_first_comparison:
            raise RuntimeError("a keyset read falls back only after its first GUID comparison is refused")
        self.column = self.column or CREATED_COLUMN
        self.guid_comparison = False
        self._handed = frozenset(self._unproven or ())
        self._unproven, self._after, self._asked_guids = None, None, False
        self._from = self._date_only_start()

    @property
    def _at_first_comparison(self) -> bool:
        return self._asked_guids and self._unproven is not None

    def _take(self, records: Sequence[dict[str, Any]]) -> Sequence[dict[str, Any]]:
        if self._whole_date is not None:
            return self._take_whole_date(records)
        if self.guid_comparison:
            if records:
                last = records[-1]
                self._after = (None if self.column is None else self._date(last), self._id(last))
            self.done = len(records) < self.page_size
            return records
        if len(records) < self.page_size:
            self.done = True
            return records
        last_date = self._date(records[-1])
        if self._date(records[0]) == last_date:  # one date fills the page: read all of it at once
            self._whole_date = last_date
            return ()
        self._from = ("ge", last_date)
        return [record for record in records if record.get(self.column or "") != last_date]

    def _date_only_start(self) -> tuple[str, str] | None:
        """Where a read without GUID comparison starts: from the start's date, or after all of it (see ``after``)."""
        if self._start is None:
            return None
        date, last_id = self._start
        return ("ge" if last_id is None else "gt", date)

    def _take_whole_date(self, records: Sequence[dict[str, Any]]) -> Sequence[dict[str, Any]]:
        if len(records) >= MAX_PAGE_SIZE:
            raise CreatioResponseError(
                f"{MAX_PAGE_SIZE:,} or more records share {self.column} {self._whole_date}: paging without "
                "GUID comparison cannot split them; use guid_comparison=True"
            )
        self._from, self._whole_date = ("gt", self._whole_date or ""), None
        return records

    def _condition(self) -> str | None:
        if self.guid_comparison:
            if self._after is None:
                return None
            date, last_id = self._after
            if self.column is None:
                return f"Id gt {last_id}"
            if last_id is None:
                return f"{self.column} ge {date}"
            return f"(({self.column} gt {date}) or ({self.column} eq {date} and Id gt {last_id}))"
        if self._from is None:
            return None
        operator, date = self._from
        return f"{self.column} {operator} {date}"

    def _date(self, record: dict[str, Any]) -> str:
        value = record.get(self.column or "")
        if not is_date_time(value):  # the server's data: not a validation error
            raise CreatioResponseError(
                f"keyset paging needs {self.column} as an ISO 8601 date-time in every record, got "
                f"{validation.shown(value)}"
            )
        return value

    @staticmethod
    def _id(record: dict[str, Any]) -> str:
        value = record.get("Id")
        if not isinstance(value, str) or not validation.is_guid(value):
            raise CreatioResponseError(f"keyset paging needs each record's Id, got {validation.shown(value)}")
        return validation.parse_guid(value, "Id")
