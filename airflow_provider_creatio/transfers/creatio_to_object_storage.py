"""Creatio records into files on object storage: ``CreatioToObjectStorageOperator``.

Importing this module is cheap: object storage, the HTTP client and the file writers are imported when a task
runs (the keyset helpers imported here need only the validation the operators import anyway).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import re
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from airflow_provider_creatio.assets import storage_uri
from airflow_provider_creatio.client.changes import CHANGE_COLUMN, change_window
from airflow_provider_creatio.client.errors import CreatioValidationError
from airflow_provider_creatio.client.keyset import CREATED_COLUMN
from airflow_provider_creatio.client.validation import check_count, utc_iso
from airflow_provider_creatio.marks import keep_window, run_window
from airflow_provider_creatio.operators.entity import CreatioEntityOperator
from airflow_provider_creatio.reconciliation import check_deletes
from airflow_provider_creatio.templated import as_filter

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import Context
    from airflow_provider_creatio.client.key_ranges import KeyRange
    from airflow_provider_creatio.client.odata import Columns, Filter
    from airflow_provider_creatio.formats import FileFormat, ValueKind, WrittenFile
    from airflow_provider_creatio.reconciliation import IdSorter

DEFAULT_MAX_RECORDS_PER_FILE = 100_000
PART_PREFIX = "part"
TOMBSTONE_PREFIX = "deleted"
_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9_.-]")


class CreatioToObjectStorageOperator(CreatioEntityOperator):
    """Extract an entity's records into files at an object storage location, paging on an index (never ``$skip``)
    and holding one page in memory. Lineage: reading the entity emits nothing; the run records an event on the
    asset of the folder it wrote, if a DAG mentions that asset. ``entity``, ``creatio_conn_id``, ``hook_params`` and ``check_columns`` are
    the entity operators' (:class:`CreatioEntityOperator`); ``check_columns`` is on by default here: ``select``,
    ``expand`` and a mapping ``filter`` are checked against the entity's schema before the first request.

    :param path: the folder to write into, an ObjectStoragePath URI (``file:///data/contacts/{{ ds }}/``,
        ``s3://bucket/contacts/{{ ds }}/``). Files are named ``part-00000.<format>``, ``part-00001...``: a rerun
        writes the same names over the old files and removes parts the old run had beyond them. Templated.
    :param format: ``jsonl`` (default), ``csv`` or ``parquet`` (the ``parquet`` extra). CSV and Parquet columns
        and types come from the entity's schema (docs/guides/transfers.md).
    :param select: columns to extract (all when None; ``Id`` and, incrementally, ``ModifiedOn`` are always
        added). Templated.
    :param filter: a raw OData expression or a mapping of column paths to values (quoted and escaped for you),
        as for the query operator. Templated.
    :param expand: lookups to include as nested records. Templated.
    :param incremental: extract only the records modified in a window, ``ModifiedOn`` from its start (included)
        to its end (excluded). The window is the run's data interval; a run without one (manual, asset-triggered)
        starts at the high-water mark the last run left (the first such run, with no mark yet, at the beginning:
        an initial load) and ends ``clock_margin`` before the run's ``run_after``.
    :param clock_margin: how far before the run's ``run_after`` a window without a data interval ends, so that a
        record written while the extract runs, or stamped by a server clock a little behind the worker's, falls
        into the next window instead of being passed over.
    :param max_records_per_file: records per file before the next one is started.
    :param page_size: records per request, at most 20,000 (Creatio's cap on one answer).
    :param guid_comparison: page with ``Id gt <guid>`` (the default; a site that refuses it makes the read go on
        without, logged, from its first refusal). False for a site known to refuse to compare GUIDs: pages then
        turn on the date column alone (``CreatedOn`` for a full extract).
    :param storage_conn_id: the Airflow connection that reaches the store (``aws_default`` for ``s3://``...);
        also writable in the URI as ``s3://conn_id@bucket/key``. Templated.
    :param deletes: ``None`` (the default: deletions are not looked for) or ``"reconcile"``: a key-only scan of
        the Ids that match ``filter`` now, compared with the snapshot the last run kept, finds the records deleted
        since; they are written as tombstone files ``deleted-00000.<format>``... (``Id``, ``DeletionSeenAt``: the
        run's ``run_after``) beside the part files, and this run's snapshot (``ids-<run id>.txt.gz``) replaces the last one
        once every file is written. The first run reports none. docs/guides/transfers.md, "Deletes", has the cost
        and what reconciliation cannot see.
    :param parallelism: read this many ranges at once (1 to 32; default 1, one ordered stream). The ranges are
        equal slices of ``CreatedOn`` (``ModifiedOn`` within an incremental window) between its first and last
        value, found with two one-record requests, the last open above, plus one range for records without a
        value when there are some; each is keyset-paged on its own and written to files of its own,
        ``part-RR-NNNNN.<format>`` (range, file): every record once, and a rerun with the same arguments writes
        the same names. The ranges share the task's session.

    XCom: ``{"uris": [...], "count": n, "high_water_mark": "<ISO 8601>" | None, "window": [start | None, end] | None}``,
    and with ``deletes``: ``"deleted": n, "deleted_uris": [...]``.
    The high-water mark (the window's end) is also kept, with the run and window that set it, in the Airflow
    Variable :meth:`watermark_key` names (JSON): every worker reads it and every run sees it, so a run without a
    data interval starts where the last run stopped. (Airflow 3.3's task state store is scoped to one run: it
    cannot carry a mark from one run to the next.)
    """

    template_fields: Sequence[str] = (
        "entity",
        "path",
        "select",
        "filter",
        "expand",
        "creatio_conn_id",
        "storage_conn_id",
    )
    check_columns_by_default = True
    ui_color = "#dcecf9"

    def __init__(
        self,
        *,
        path: str,
        format: str = "jsonl",
        select: Columns = None,
        filter: Filter = None,
        expand: Columns = None,
        incremental: bool = False,
        clock_margin: dt.timedelta = dt.timedelta(minutes=1),
        max_records_per_file: int = DEFAULT_MAX_RECORDS_PER_FILE,
        page_size: int | None = None,
        guid_comparison: bool = True,
        storage_conn_id: str | None = None,
        deletes: str | None = None,
        parallelism: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        from airflow_provider_creatio.client.key_ranges import MAX_PARALLELISM

        self.parallelism = check_count(parallelism, "parallelism", maximum=MAX_PARALLELISM)
        if max_records_per_file < 1:
            raise ValueError(f"max_records_per_file must be at least 1, got {max_records_per_file}")
        check_deletes(deletes, "deletes")
        self.deletes = deletes
        self.path = path
        self.format = format
        self.select = select
        self.filter = filter
        self.expand = expand
        self.incremental = incremental
        self.clock_margin = clock_margin
        self.max_records_per_file = max_records_per_file
        self.page_size = page_size
        self.guid_comparison = guid_comparison
        self.storage_conn_id = storage_conn_id

    def snapshot_key(self) -> str:
        """The Airflow Variable naming this task's last Id snapshot (``deletes="reconcile"``)."""
        return f"creatio_extract_ids__{self.dag_id}__{self.task_id}"

    def watermark_key(self) -> str:
        """The Airflow Variable holding this task's high-water mark."""
        return f"creatio_extract_watermark__{self.dag_id}__{self.task_id}"

    def run(self, context: Context) -> dict[str, Any]:
        from airflow_provider_creatio import reconciliation
        from airflow_provider_creatio.formats import FileFormat

        file_format = FileFormat.resolve(self.format)
        filter = as_filter(self.filter)
        self.refuse_unknown_columns(select=self.select, expand=self.expand, filter=filter)
        if self.deletes and self.hook.get_entity_schema(self.entity).column("Id") is None:
            raise CreatioValidationError(
                f"deletes='reconcile' needs an Id column, and {self.entity} has none"
            )
        window = run_window(context, self.watermark_key(), self.clock_margin) if self.incremental else None
        folder = self.path.rstrip("/")
        with contextlib.ExitStack() as stack:
            # With deletes, every Id the run writes goes into its snapshot too (see _reconcile).
            seen = stack.enter_context(reconciliation.id_sorter()) if self.deletes else None
            kinds = None if file_format is FileFormat.JSONL else self._kinds(window is not None)
            if self.parallelism == 1:
                written = self._write_part(self._records(filter, window), folder, PART_PREFIX, kinds, seen)
                self._remove_range_parts(folder, file_format, first=0)
            else:
                written = self._write_ranges(filter, window, folder, kinds, seen)
                self._remove_stale_parts(folder, 0, file_format)
            deleted = None if seen is None else self._reconcile(context, filter, folder, file_format, seen)
        count = sum(file.count for file in written)
        mark = None if window is None else window[1]
        if window is not None:
            description = f"{type(self).__name__} {self.dag_id}.{self.task_id} high-water mark"
            keep_window(self.watermark_key(), window, context["run_id"], description)
        self.log.info("Wrote %d %s records to %d file(s) under %s", count, self.entity, len(written), folder)
        # One dataset and one asset for the folder (a run's files are its partitions), not one per file.
        self.files_written = [(storage_uri(folder), count, len(written))]
        self.emit_asset(context, storage_uri(folder), {"records": count, "files": len(written)})
        result = {
            "uris": [file.uri for file in written],
            "count": count,
            "high_water_mark": mark,
            "window": None if window is None else list(window),
        }
        if deleted is not None:
            result.update(
                deleted=sum(file.count for file in deleted), deleted_uris=[file.uri for file in deleted]
            )
        return result

    def _write_part(
        self,
        records: Iterator[dict[str, Any]],
        folder: str,
        prefix: str,
        kinds: dict[str, ValueKind] | None,
        seen: IdSorter | _LockedSorter | None,
    ) -> list[WrittenFile]:
        """One stream of records into the files ``<prefix>-00000.<format>``..., and no stale ones beyond."""
        from airflow_provider_creatio.formats import FileFormat, write_files

        file_format = FileFormat.resolve(self.format)
        written = write_files(
            records if seen is None else _noting_ids(records, seen),
            lambda number: f"{folder}/{_part_name(number, file_format, prefix)}",
            file_format,
            max_records_per_file=self.max_records_per_file,
            kinds=kinds,
            conn_id=self.storage_conn_id,
        )
        self._remove_stale_parts(folder, len(written), file_format, prefix)
        return written

    def _write_ranges(
        self,
        filter: Filter,
        window: tuple[str | None, str] | None,
        folder: str,
        kinds: dict[str, ValueKind] | None,
        seen: IdSorter | None,
    ) -> list[WrittenFile]:
        """The records in ``parallelism`` key ranges read side by side, each into files of its own."""
        from airflow_provider_creatio.client import odata
        from airflow_provider_creatio.formats import FileFormat

        column = CHANGE_COLUMN if window is not None else CREATED_COLUMN
        conditions = odata.build_filter(filter)
        if window is not None:
            conditions = change_window(conditions, *window)
        ranges = self._key_ranges(column, conditions)
        noting = None if seen is None else _LockedSorter(seen)

        def write(number: int) -> list[WrittenFile]:
            part = ranges[number]
            records = self.hook.iter_keyset(
                self.entity,
                filter=" and ".join(f"({c})" for c in (conditions, part.condition) if c),
                select=self.select,
                expand=self.expand,
                column=part.column,
                page_size=self.page_size,
                guid_comparison=self.guid_comparison,
            )
            return self._write_part(records, folder, f"{PART_PREFIX}-{number:02d}", kinds, noting)

        with ThreadPoolExecutor(self.parallelism, thread_name_prefix="creatio-extract") as pool:
            parts = list(pool.map(write, range(len(ranges))))
        self._remove_range_parts(folder, FileFormat.resolve(self.format), first=len(ranges))
        self.log.info(
            "Read %d %s ranges of %s, %d at a time", len(ranges), self.entity, column, self.parallelism
        )
        return [file for part in parts for file in part]

    def _key_ranges(self, column: str, conditions: str | None) -> list[KeyRange]:
        """The ranges of ``column`` to read (:mod:`.client.key_ranges`), from two one-record requests (two more
        when records without a value exist); none when nothing matches."""
        from airflow_provider_creatio.client.key_ranges import KeyRange, key_ranges, span_calls

        def span(without_nulls: bool) -> list[str | None]:
            calls = span_calls(self.entity, column, conditions, without_nulls=without_nulls)
            return [_value(self.hook.call(call).records, column) for call in calls]

        first, last = span(False)
        nulls = first is None or last is None
        if nulls:  # a null sorted to one end, or nothing matches
            first, last = span(True)
        null_column = None if self.guid_comparison else CHANGE_COLUMN
        if first is None or last is None:  # nothing with a value: the nulls alone, if any
            return [KeyRange(f"{column} eq null", null_column)]
        return key_ranges(column, (first, last), self.parallelism, nulls=nulls, null_column=null_column)

    def _remove_range_parts(self, folder: str, file_format: FileFormat, first: int) -> None:
        """The range files of an earlier run read in more ranges (or in ranges, when this one was not)."""
        from airflow_provider_creatio.formats import storage_path

        number = first
        while storage_path(
            f"{folder}/{_part_name(0, file_format, f'{PART_PREFIX}-{number:02d}')}", self.storage_conn_id
        ).exists():
            self._remove_stale_parts(folder, 0, file_format, f"{PART_PREFIX}-{number:02d}")
            number += 1

    def _reconcile(
        self, context: Context, filter: Filter, folder: str, file_format: FileFormat, seen: IdSorter
    ) -> list[WrittenFile]:
        """Write the tombstones of the records deleted since the last run, and this run's Id snapshot; the Variable
        names the new snapshot only once both are written. A rerun compares with the snapshot its run started
        from, so it writes the same tombstones.

        The snapshot holds the Ids the key-only scan found and those this run wrote to its part files: a record
        written and then deleted before the scan reached it is in the snapshot, so the next run reports it."""
        from airflow_provider_creatio import reconciliation
        from airflow_provider_creatio.marks import read_mark, write_mark

        state = read_mark(self.snapshot_key()) or {}
        rerun = state.get("run_id") == context["run_id"]
        previous = state.get("previous") if rerun else state.get("snapshot")
        snapshot = f"{folder}/{snapshot_name(context['run_id'])}"
        seen_at = utc_iso(context["dag_run"].run_after)
        old = reconciliation.read_snapshot(previous, self.storage_conn_id) if previous else iter(())
        for value in self._ids(filter):
            seen.add(value)
        with reconciliation.snapshot_writer(snapshot, self.storage_conn_id) as keep:
            gone = (
                {"Id": value, "DeletionSeenAt": seen_at}
                for value in reconciliation.removed(old, seen.sorted(), keep)
            )
            tombstones = self._write_tombstones(gone, folder, file_format)
        new_state = {"run_id": context["run_id"], "snapshot": snapshot, "previous": previous}
        write_mark(
            self.snapshot_key(), new_state, f"{type(self).__name__} {self.dag_id}.{self.task_id} Id snapshot"
        )
        self._forget_snapshot(state.get("previous"), keep={snapshot, previous})
        self.log.info(
            "%d %s records were deleted since the last snapshot",
            sum(f.count for f in tombstones),
            self.entity,
        )
        return tombstones

    def _forget_snapshot(self, location: str | None, keep: set[str | None]) -> None:
        """Remove a snapshot no run compares with any more (the one before the last run's)."""
        from airflow_provider_creatio.formats import storage_path

        if location and location not in keep:
            storage_path(location, self.storage_conn_id).unlink(missing_ok=True)

    def _ids(self, filter: Filter) -> Iterator[str]:
        """Every matching Id, read key only, in the largest pages Creatio answers."""
        from airflow_provider_creatio.client.keyset import MAX_PAGE_SIZE

        column = self._keyset_column(False)
        records = self.hook.iter_keyset(
            self.entity,
            filter=filter,
            select=["Id"] if column is None else ["Id", column],
            column=column,
            page_size=MAX_PAGE_SIZE,
            guid_comparison=self.guid_comparison,
        )
        return (str(record["Id"]) for record in records)

    def _write_tombstones(
        self, gone: Iterator[dict[str, Any]], folder: str, file_format: FileFormat
    ) -> list[WrittenFile]:
        """The tombstone files (none when nothing was deleted), and no stale ones of an earlier run of this folder."""
        from airflow_provider_creatio.formats import ValueKind, write_files

        first = next(gone, None)
        written = []
        if first is not None:
            written = write_files(
                itertools.chain([first], gone),
                lambda number: f"{folder}/{_part_name(number, file_format, TOMBSTONE_PREFIX)}",
                file_format,
                max_records_per_file=self.max_records_per_file,
                kinds={"Id": ValueKind.GUID, "DeletionSeenAt": ValueKind.DATETIME},
                conn_id=self.storage_conn_id,
            )
        self._remove_stale_parts(folder, len(written), file_format, TOMBSTONE_PREFIX)
        return written

    def _kinds(self, incremental: bool) -> dict[str, ValueKind]:
        """The file's columns, in order, and their kinds, from the schema: what a record of this read holds."""
        from airflow_provider_creatio.client import odata
        from airflow_provider_creatio.formats import ValueKind, kinds_for_entity

        schema = self.hook.get_entity_schema(self.entity)
        names = odata.listed_items(self.select, "select") or list(schema.column_names)
        names += [name for name in self._cursor_columns(incremental) if name not in names]
        kinds = kinds_for_entity(schema, names)
        for expanded in odata.listed_items(self.expand, "expand"):
            kinds[expanded.split("(")[0]] = ValueKind.JSON
        return kinds

    def _cursor_columns(self, incremental: bool) -> list[str]:
        """The columns the reads add to every record for their keyset cursors (:meth:`_keyset_column`; in ranges,
        the range column, and for the records without a value in it, ``ModifiedOn`` without GUID comparison)."""
        if incremental:
            return ["Id", CHANGE_COLUMN]
        if self.parallelism > 1:
            return ["Id", CREATED_COLUMN] + ([] if self.guid_comparison else [CHANGE_COLUMN])
        return ["Id"] if self.guid_comparison else ["Id", CREATED_COLUMN]

    def _keyset_column(self, incremental: bool) -> str | None:
        """The date column pages turn on (after Id): ModifiedOn for a window; for a full extract none (Id alone),
        or CreatedOn, which an edit does not move, without GUID comparison."""
        if incremental:
            return CHANGE_COLUMN
        return None if self.guid_comparison else CREATED_COLUMN

    def _records(self, filter: Filter, window: tuple[str | None, str] | None) -> Iterator[dict[str, Any]]:
        from airflow_provider_creatio.client import odata

        column = self._keyset_column(window is not None)
        if window is not None:
            filter = change_window(odata.build_filter(filter), *window)
        return self.hook.iter_keyset(
            self.entity,
            filter=filter,
            select=self.select,
            expand=self.expand,
            column=column,
            page_size=self.page_size,
            guid_comparison=self.guid_comparison,
        )

    def _remove_stale_parts(
        self, folder: str, kept: int, file_format: FileFormat, prefix: str = PART_PREFIX
    ) -> None:
        """Parts an earlier run of the same window wrote beyond this run's last (fewer records now)."""
        from airflow_provider_creatio.formats import storage_path

        number = kept
        while True:
            stale = storage_path(f"{folder}/{_part_name(number, file_format, prefix)}", self.storage_conn_id)
            if not stale.exists():
                return
            stale.unlink()
            number += 1


class _LockedSorter:
    """An :class:`IdSorter` that the ranges' threads add to one at a time."""

    def __init__(self, sorter: IdSorter) -> None:
        self._sorter = sorter
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        with self._lock:
            self._sorter.add(value)


def _value(records: Sequence[dict[str, Any]], column: str) -> str | None:
    """The column's value in a one-record answer; None when there is no record or no value (the empty answer of
    a read that matches nothing, or a null sorted to that end)."""
    value = records[0].get(column) if records else None
    return None if value is None else str(value)


def _noting_ids(
    records: Iterator[dict[str, Any]], seen: IdSorter | _LockedSorter
) -> Iterator[dict[str, Any]]:
    """``records``, each record's Id also added to ``seen`` as it passes."""
    for record in records:
        seen.add(str(record["Id"]))
        yield record


def _part_name(number: int, file_format: FileFormat, prefix: str = PART_PREFIX) -> str:
    return f"{prefix}-{number:05d}{file_format.suffix}"


def snapshot_name(run_id: str) -> str:
    """The Id snapshot of a run, named by the run: a folder every run writes into keeps the snapshot it compares
    with until the new one is complete."""
    return f"ids-{_UNSAFE_IN_NAME.sub('_', run_id)}.txt.gz"
