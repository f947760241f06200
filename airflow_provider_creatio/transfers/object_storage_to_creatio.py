"""Load record files from object storage into a Creatio entity through ``$batch``.

Importing this module is cheap (it is imported at every DAG parse): object storage, the file formats and the bulk
flow are imported when a task runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_creatio._compat import AirflowException
from airflow_provider_creatio.client.bulk_operation import FAILURE_REPORT_KEY, check_operation
from airflow_provider_creatio.client.lanes import DEFAULT_CONCURRENCY
from airflow_provider_creatio.operators.entity import CreatioEntityOperator
from airflow_provider_creatio.templated import as_count

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import Context, ObjectStoragePath
    from airflow_provider_creatio.client.bulk import BulkRun, BulkTally
    from airflow_provider_creatio.formats import ValueKind

REPORT_SUFFIX = ".report.jsonl"
_MAX_BATCH_SIZE = (
    100  # Creatio's limit of requests per $batch (client.batch.MAX_BATCH_SIZE, not imported at parse)
)
_GLOB_CHARACTERS = "*?["


class ObjectStorageToCreatioOperator(CreatioEntityOperator):
    """Create, update, upsert or delete the records of files in object storage (JSON Lines, CSV or Parquet) in
    an entity, through OData ``$batch``, streamed: about one chunk of 2,000 records and ``concurrency`` batches
    are held at a time, however large the files. Up to ``concurrency`` batches are sent at once, on the task's
    one Creatio session (``session_mode`` nonblocking) or on a session per lane (blocking).

    The guarantees are the bulk operator's: client-chosen Ids (a rerun creates nothing twice), one existence
    lookup per chunk for an upsert, an outcome per record. Before the first write, every column the files name is
    checked against the entity's schema (``check_columns``, on by default). Each input's per-record outcomes are
    written beside it, as ``<input>.report.jsonl`` (one JSON object per record: ``index`` in the file, ``Id``,
    ``ok``, ``action``, and ``status`` and ``error`` when it failed); a rerun replaces it.

    :param source: a file (``s3://bucket/in/contacts.csv``), a folder (every file directly in it), or a glob
        (``s3://bucket/in/*.parquet``); or a list of them (the files an extract wrote, from its XCom), loaded in
        that order. A local path is a ``file://`` URI. Reports (``*.report.jsonl``) and names starting with ``.``
        or ``_`` are never read as input. Templated.
    :param operation: ``create``, ``update``, ``upsert`` or ``delete``. Templated.
    :param format: ``jsonl``, ``csv`` or ``parquet``; by default each file's suffix tells. CSV cells are typed by
        the entity's schema (docs/guides/transfers.md). Templated.
    :param storage_conn_id: the Airflow connection that reaches the store (``aws_default`` for ``s3://``...); also
        writable in the URI as ``s3://conn_id@bucket/key``. Templated.
    :param allow_partial: succeed even when some records failed (counted in the XCom value, listed in the
        reports). By default any failed record fails the task, after every record was tried.
    :param continue_on_error: try every record; when False, stop at the first failure and report the rest as
        skipped (never sent).
    :param batch_size: requests per ``$batch`` call, 1 to 100.
    :param missing_ok: for delete, a record that does not exist counts as done (action ``absent``).
    :param concurrency: ``$batch`` requests in flight at once, 1 to 16 (default 4; 1 sends one after the other).
        The outcomes and the reports are the same whatever the number. Templated.
    :param session_mode: ``nonblocking`` (the lanes share the task's one session: one login) or ``blocking``
        (each lane logs in with a session of its own: up to ``concurrency`` logins); by default the connection's
        ``session_mode`` extra. Templated.
    :param max_api_calls: fail before writing anything when the load would spend more API calls than this, as
        Creatio counts them against the daily quota (one per record, plus an upsert's lookups and the schema
        read); the error says how many it needs. Set, it costs one more pass over the input. None: no limit.

    XCom: the bulk operator's shape, ``{"operation", "entity", "count", "succeeded", "failed", "actions": {action:
    count}, "batch_calls"}``, with ``"files": [{"uri", "report", "count", "failed"}]``; when the task fails, the
    same value is pushed under the key ``bulk_report``.
    """

    template_fields: Sequence[str] = (
        "entity",
        "operation",
        "source",
        "format",
        "creatio_conn_id",
        "storage_conn_id",
        "concurrency",
        "session_mode",
    )
    check_columns_by_default = True
    writes_entity = True
    ui_color = "#dcecf9"

    def __init__(
        self,
        *,
        source: str | Sequence[str],
        operation: str,
        format: str | None = None,
        storage_conn_id: str | None = None,
        allow_partial: bool = False,
        continue_on_error: bool = True,
        batch_size: int = 100,
        missing_ok: bool = False,
        concurrency: int | str = DEFAULT_CONCURRENCY,
        session_mode: str | None = None,
        max_api_calls: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_operation(operation)
        self.max_api_calls = max_api_calls
        if not 1 <= batch_size <= _MAX_BATCH_SIZE:
            raise ValueError(f"batch_size must be 1 to {_MAX_BATCH_SIZE}, got {batch_size}")
        self.source = source
        self.operation = operation
        self.format = format
        self.storage_conn_id = storage_conn_id
        self.allow_partial = allow_partial
        self.continue_on_error = continue_on_error
        self.batch_size = batch_size
        self.missing_ok = missing_ok
        self.concurrency = concurrency
        self.session_mode = session_mode

    def run(self, context: Context) -> dict[str, Any]:
        from airflow_provider_creatio.client.batch import lookup_ids_per_batch

        inputs = self._input_files()
        self.files_read = [str(path) for path in inputs]
        self._refuse_unknown_columns(inputs)
        kinds = self._csv_kinds(inputs)
        # Whole batches, and one upsert lookup $batch (2,000 Ids at the default filter limit) per chunk: the
        # requests of one bulk run over it all.
        per_lookup = lookup_ids_per_batch(self.hook.client.config.odata_max_filter_nodes)
        chunk_size = max(1, per_lookup // self.batch_size) * self.batch_size
        from airflow_provider_creatio.client.bulk import BulkTally
        from airflow_provider_creatio.client.bulk_operation import BulkOperation

        if self.max_api_calls is not None:
            self.refuse_over_api_calls(self.max_api_calls, self._api_calls_needed(inputs, kinds, chunk_size))
        tally = BulkTally(BulkOperation(self.operation), self.entity)
        files = []
        # One run for every file: its lanes (and their sessions) and a stop carry over from file to file.
        with self.hook.bulk_run(
            self.operation,
            self.entity,
            continue_on_error=self.continue_on_error,
            batch_size=self.batch_size,
            missing_ok=self.missing_ok,
            concurrency=as_count(self.concurrency, "concurrency"),
            session_mode=self.session_mode or None,
        ) as run:
            for source in inputs:
                files.append(self._load_file(source, run, chunk_size, kinds, tally))
                self.log.info("Loaded %s: %s", source, files[-1])
        tally.batch_calls = run.batch_calls
        return self._finish(context, tally, files)

    def _load_file(
        self,
        source: ObjectStoragePath,
        run: BulkRun,
        chunk_size: int,
        kinds: dict[str, ValueKind] | None,
        tally: BulkTally,
    ) -> dict[str, Any]:
        """Stream one input through the run, its outcomes into the report beside it, in the file's order."""
        from airflow_provider_creatio import formats

        report_path = source.with_name(source.name + REPORT_SUFFIX)
        before = (tally.count, tally.failed)
        with formats.open_writer(report_path, formats.FileFormat.JSONL) as report:
            records = formats.read_records(source, self.format, kinds=kinds)
            for outcome in run.outcomes(formats.read_chunks(records, chunk_size)):
                report.write(outcome.to_dict())
                tally.add(outcome, str(source))
        return {
            "uri": str(source),
            "report": str(report_path),
            "count": tally.count - before[0],
            "failed": tally.failed - before[1],
        }

    def _api_calls_needed(
        self, inputs: list[ObjectStoragePath], kinds: dict[str, ValueKind] | None, chunk_size: int
    ) -> int:
        """The calls the load's writes need, counted chunk by chunk as they will be sent (a pass over the input
        that writes nothing)."""
        from airflow_provider_creatio import formats

        needed = 0
        for source in inputs:
            records = formats.read_records(source, self.format, kinds=kinds)
            for chunk in formats.read_chunks(records, chunk_size):
                needed += self.hook.bulk_api_calls(self.operation, self.entity, chunk)
        return needed

    def _input_files(self) -> list[ObjectStoragePath]:
        """The files of every source, in order, each once."""
        sources = [self.source] if isinstance(self.source, str) else list(self.source)
        if not sources:
            raise AirflowException("no source given")
        inputs: dict[str, ObjectStoragePath] = {}
        for source in sources:
            inputs.update((str(path), path) for path in self._files_at(str(source).strip()))
        return list(inputs.values())

    def _files_at(self, source: str) -> list[ObjectStoragePath]:
        from airflow_provider_creatio import formats

        cut = min((source.find(mark) for mark in _GLOB_CHARACTERS if mark in source), default=-1)
        if cut >= 0:
            folder = source[: source.rfind("/", 0, cut)]
            pattern = source[len(folder) + 1 :]
            found = list(formats.storage_path(folder, self.storage_conn_id).glob(pattern))
        else:
            path = formats.storage_path(source, self.storage_conn_id)
            if not path.is_dir():
                if not path.is_file():
                    raise AirflowException(f"no such file: {path}")
                return [path]
            found = list(path.iterdir())
        inputs = sorted((path for path in found if _is_input(path) and path.is_file()), key=str)
        if not inputs:
            raise AirflowException(f"no input files at {source}")
        return inputs

    def _refuse_unknown_columns(self, inputs: list[ObjectStoragePath]) -> None:
        """Every column of every input, checked before the first write."""
        if not self.check_columns:
            return
        from airflow_provider_creatio import formats

        names: dict[str, None] = {}
        for source in inputs:
            names.update(dict.fromkeys(formats.column_names(source, self.format)))
        self.hook.check_columns(self.entity, data=list(names))

    def _csv_kinds(self, inputs: list[ObjectStoragePath]) -> dict[str, ValueKind] | None:
        """The entity's column kinds, which type CSV cells; None when no input is CSV."""
        from airflow_provider_creatio import formats

        if all(
            formats.FileFormat.resolve(self.format, path) is not formats.FileFormat.CSV for path in inputs
        ):
            return None
        return formats.kinds_for_entity(self.hook.get_entity_schema(self.entity))

    def _finish(self, context: Context, tally: BulkTally, files: list[dict[str, Any]]) -> dict[str, Any]:
        self.rows_written = tally.written
        value = tally.summary()
        self.log.info("Load (%s) into %s: %s (%d files)", self.operation, self.entity, value, len(files))
        value["files"] = files
        if tally.failed and not self.allow_partial:
            context["ti"].xcom_push(key=FAILURE_REPORT_KEY, value=value)
            raise AirflowException(
                f"load ({self.operation}) into {self.entity}: {tally.failed} of {tally.count} records failed "
                f"(every outcome is in the reports beside the inputs):\n{tally.describe_failures()}"
            )
        return value


def _is_input(path: ObjectStoragePath) -> bool:
    return not (path.name.endswith(REPORT_SUFFIX) or path.name.startswith((".", "_")))
