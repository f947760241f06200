"""Deletions found by Id reconciliation: the Ids that exist now, compared with those a previous run saw.

A deleted Creatio record leaves no ``ModifiedOn`` for an incremental read to find. What can be read cheaply, on
every Creatio version, is the Ids that exist: a key-only scan. This module compares such a scan with the previous
snapshot of Ids as a streaming merge of two sorted lists, so memory stays flat whatever the number of Ids:

* the scan arrives in the server's key order (which depends on its database's GUID order), so it is first sorted
  into the snapshot's order (plain lower-case text order) in runs of :data:`SORT_RUN` Ids kept in temporary files
  and merged back (an external sort, :class:`IdSorter`, which also takes the Ids a run wrote to its files);
* a snapshot is a gzip text file of lower-case Ids, one per line, in that order; a line that is no GUID, or comes
  before the line above it, makes the snapshot corrupt, which is an error, never a silent false deletion;
* an Id in the previous snapshot and not in the current scan is a deletion; an Id new in the scan (created since,
  or while the scan ran) never is.
"""

from __future__ import annotations

import contextlib
import gzip
import heapq
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from airflow_provider_creatio.client import validation
from airflow_provider_creatio.client.errors import CreatioFileError
from airflow_provider_creatio.formats.location import opened_for_write, storage_path

SORT_RUN = 100_000  # Ids sorted in memory at a time (about 10 MB), before they go to a temporary file
EVENT_LOG_REFUSAL = (
    "is not available: the sources document how to configure Creatio 8.3.2's delete event log but not how to read "
    "it (docs/creatio-notes/delete-event-log.md); use 'reconcile'"
)


def check_deletes(value: str | None, argument: str) -> None:
    """``argument`` (``deletes``, ``include_deletes``) is None or ``"reconcile"``; ``"event_log"`` says why not."""
    if value == "event_log":
        raise ValueError(f"{argument}='event_log' {EVENT_LOG_REFUSAL}")
    if value not in (None, "reconcile"):
        raise ValueError(f"{argument} must be None or 'reconcile', got {value!r}")


class IdSorter:
    """Takes Ids (GUIDs in any letter case and order) one at a time and gives them back as lower-case text in
    ascending order, without repeats, holding at most ``run_size`` of them in memory: each full run is sorted into
    a file of ``folder``, and the files are merged back (an external sort)."""

    def __init__(self, folder: Path, files: contextlib.ExitStack, run_size: int) -> None:
        self._folder = folder
        self._files = files  # closes the run files when the sorter's block ends
        self._run_size = run_size
        self._run: list[str] = []
        self._runs: list[Path] = []

    def add(self, value: str) -> None:
        self._run.append(validation.parse_guid(value, "Id"))
        if len(self._run) >= self._run_size:
            self._spill()

    def sorted(self) -> Iterator[str]:
        """Every Id added, in order, once (read from the run files as the merge goes)."""
        self._spill()
        readers = [
            _lines(self._files.enter_context(path.open("rt", encoding="ascii"))) for path in self._runs
        ]
        return _unique(heapq.merge(*readers))

    def _spill(self) -> None:
        if self._run:
            path = self._folder / f"run-{len(self._runs)}"
            path.write_text("".join(f"{value}\n" for value in sorted(self._run)), encoding="ascii")
            self._runs.append(path)
            self._run = []


@contextlib.contextmanager
def id_sorter(run_size: int = SORT_RUN) -> Iterator[IdSorter]:
    """An :class:`IdSorter` whose temporary files go when the block ends."""
    with tempfile.TemporaryDirectory(prefix="creatio-ids-") as folder, contextlib.ExitStack() as files:
        yield IdSorter(Path(folder), files, run_size)


def _lines(handle: IO[str]) -> Iterator[str]:
    for line in handle:
        yield line.rstrip("\n")


def _unique(values: Iterable[str]) -> Iterator[str]:
    last = None
    for value in values:
        if value != last:
            yield value
            last = value


def read_snapshot(location: str, conn_id: str | None = None) -> Iterator[str]:
    """The Ids of a snapshot, checked as they are read (see the module's docstring)."""
    path = storage_path(location, conn_id)
    if not path.exists():
        raise CreatioFileError(f"the Id snapshot {location} is missing")
    return _checked(path.open("rb"), location)


def _checked(raw: IO[bytes], location: str) -> Iterator[str]:
    with raw, gzip.open(raw, "rt", encoding="ascii") as text:
        last = ""
        try:
            for number, line in enumerate(text, start=1):
                value = line.rstrip("\n")
                if not validation.is_guid(value) or value != value.lower() or value <= last:
                    raise CreatioFileError(
                        f"the Id snapshot {location} is corrupt at line {number}: {value[:60]!r} is not a "
                        "lower-case GUID after the line above it"
                    )
                yield value
                last = value
        except (OSError, EOFError, UnicodeDecodeError) as err:
            raise CreatioFileError(f"the Id snapshot {location} is corrupt: {err}") from None


@contextlib.contextmanager
def snapshot_writer(location: str, conn_id: str | None = None) -> Iterator[Callable[[str], None]]:
    """A function that appends one Id to a new snapshot at ``location``; the file appears whole when the block
    ends, and not at all if it fails."""
    with (
        opened_for_write(storage_path(location, conn_id)) as raw,
        gzip.GzipFile(fileobj=raw, mode="wb") as packed,
        io.TextIOWrapper(packed, encoding="ascii") as text,
    ):

        def keep(value: str) -> None:
            text.write(f"{value}\n")

        yield keep


def removed(previous: Iterable[str], current: Iterable[str], keep: Callable[[str], None]) -> Iterator[str]:
    """The Ids of ``previous`` that ``current`` lacks (both ascending), calling ``keep`` with every Id of
    ``current`` on the way: one pass over both, one Id of each held at a time."""
    before = iter(previous)
    old = next(before, None)
    for value in current:
        keep(value)
        while old is not None and old < value:
            yield old
            old = next(before, None)
        if old == value:
            old = next(before, None)
    while old is not None:
        yield old
        old = next(before, None)


@dataclass
class DeletionBatch:
    """The deletions one scan found, compared with the snapshot before it, in the style of a change batch: how
    many, the first ``ids_limit`` Ids, and the scans that bound it (``after``: when the previous snapshot's scan
    began, ``mark``: when this one began). ``snapshot`` is this scan's snapshot; ``listing`` a file of every
    deleted Id (one per line, gzip), None when there is none."""

    mark: str
    snapshot: str
    listing: str
    after: str | None = None
    ids_limit: int = 100
    count: int = 0
    ids: list[str] = field(default_factory=list)

    def add(self, value: str) -> None:
        self.count += 1
        if len(self.ids) < self.ids_limit:
            self.ids.append(value)

    def payload(self) -> dict[str, Any]:
        return {
            "deleted_count": self.count,
            "deleted_ids": list(self.ids),
            "deleted_truncated": self.count > len(self.ids),
            "deleted_after": self.after,
            "deleted_mark": self.mark,
            "deleted_uri": self.listing if self.count else None,
        }

    def state(self) -> dict[str, str]:
        """What the next scan compares with: kept once the deletions are delivered."""
        return {"snapshot": self.snapshot, "scanned_at": self.mark}


def no_deletions(scanned_at: str | None) -> dict[str, Any]:
    """The deletion part of an event that carries changes only: nothing deleted since the last scan."""
    return {
        "deleted_count": 0,
        "deleted_ids": [],
        "deleted_truncated": False,
        "deleted_after": scanned_at,
        "deleted_mark": scanned_at,
        "deleted_uri": None,
    }


def compare_with_snapshot(
    seen: IdSorter, previous: str | None, batch: DeletionBatch, conn_id: str | None = None
) -> None:
    """Write ``batch.snapshot`` from ``seen`` and the Ids of ``previous`` that ``seen`` lacks to ``batch`` and its
    listing (removed again when there is none). No previous snapshot: nothing is deleted."""
    old = read_snapshot(previous, conn_id) if previous else iter(())
    with snapshot_writer(batch.snapshot, conn_id) as keep, snapshot_writer(batch.listing, conn_id) as listed:
        for value in removed(old, seen.sorted(), keep):
            batch.add(value)
            listed(value)
    if not batch.count:
        storage_path(batch.listing, conn_id).unlink(missing_ok=True)
