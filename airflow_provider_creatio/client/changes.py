"""Record changes since a high-water mark: what one look at an entity found, in the keyset order of the
incremental extract (``ModifiedOn``, then ``Id``). No I/O here: the hook's async calls read the pages.

A mark is the ``(ModifiedOn, Id)`` of the last change seen; the next look asks for the records after it in that
order (:class:`~.keyset.KeysetCursor`'s condition). ``(ModifiedOn, None)`` asks for every record modified at or
after that time. A look reads only records modified before a bound, ``clock_margin`` before the reader's now
(:func:`changed_before`), so that a mark never passes a time at which a save may still be committing
(docs/creatio-notes/modifiedon-is-stamped-before-the-commit.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_creatio.client import keyset, validation
from airflow_provider_creatio.client.errors import CreatioValidationError

CHANGE_COLUMN = "ModifiedOn"
DEFAULT_IDS_LIMIT = 100


def change_window(filter: str | None, start: str | None, end: str) -> str:
    """The ``$filter`` of the records changed in ``[start, end)`` (``ModifiedOn``; from the beginning without a
    start) that match ``filter`` (rendered; None for every record): an incremental extract's window, and a
    look's. The keyset condition is ANDed to it page by page; one read keeps one window for all its pages."""
    bounds = f"{CHANGE_COLUMN} lt {end}"
    if start is not None:
        bounds = f"{CHANGE_COLUMN} ge {start} and {bounds}"
    return bounds if filter is None else f"({filter}) and {bounds}"


def changed_before(filter: str | None, bound: dt.datetime) -> str:
    """A look's ``$filter``: the watch's ``filter`` and ``ModifiedOn`` before ``bound``."""
    return change_window(filter, None, keyset.filter_date_time(bound))


@dataclass(frozen=True)
class Mark:
    """A position in (ModifiedOn, Id) order: after the record ``id`` modified at ``modified_on``, or from
    ``modified_on`` on (itself included) when ``id`` is None."""

    modified_on: str
    id: str | None = None

    @classmethod
    def of_record(cls, record: dict[str, Any]) -> Mark:
        """The position of a record read in keyset order (it carries ``ModifiedOn`` and ``Id``)."""
        return cls(str(record[CHANGE_COLUMN]), str(record["Id"]))

    def to_dict(self) -> dict[str, str | None]:
        return {"ModifiedOn": self.modified_on, "Id": self.id}

    @classmethod
    def from_dict(cls, value: Any) -> Mark | None:
        """A mark from :meth:`to_dict`'s form; None for None."""
        if value is None:
            return None
        if not isinstance(value, dict) or not isinstance(value.get("ModifiedOn"), str):
            raise CreatioValidationError(
                f'a high-water mark must be {{"ModifiedOn": "<ISO 8601>", "Id": "<guid>" | null}}, got '
                f"{validation.shown(value)}"
            )
        return cls(value["ModifiedOn"], value.get("Id"))


@dataclass
class ChangeBatch:
    """The changes one look found after the mark ``after``: how many, the first ``ids_limit`` Ids in order, and
    the new mark (the last change's). ``guid_comparison``: False when the look read on ``ModifiedOn`` alone (the
    site refused to compare GUIDs), which the next looks then do from the start."""

    after: Mark | None = None
    ids_limit: int = DEFAULT_IDS_LIMIT
    count: int = 0
    ids: list[str] = field(default_factory=list)
    mark: Mark | None = None
    guid_comparison: bool = True

    def add(self, records: Sequence[dict[str, Any]]) -> None:
        for record in records:
            self.count += 1
            if len(self.ids) < self.ids_limit:
                self.ids.append(str(record["Id"]))
        if records:
            self.mark = Mark.of_record(records[-1])

    @property
    def truncated(self) -> bool:
        return self.count > len(self.ids)

    def payload(self) -> dict[str, Any]:
        """The event's payload: small whatever the number of changes. ``after`` and ``mark`` bound the batch, so
        that a consumer of a truncated one can read it whole."""
        return {
            "count": self.count,
            "ids": list(self.ids),
            "truncated": self.truncated,
            "after": None if self.after is None else self.after.to_dict(),
            "mark": None if self.mark is None else self.mark.to_dict(),
        }
