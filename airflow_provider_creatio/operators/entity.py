"""Operators for Creatio records (OData 4), for any entity: Contact, Account, Case, Activity, custom ``Usr*``.

One family, named alike: create, get, update, upsert, delete, query (paged) and bulk (``$batch``). Every data
argument is templated and also accepts an XComArg or a JSON string (what a Jinja expression renders to), so
records can flow in from upstream tasks, and every operator can be mapped with ``.partial().expand()``.

Importing this module is cheap: no HTTP library and no client module is imported until a task runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_creatio._compat import AirflowException, BaseOperator
from airflow_provider_creatio.assets import storage_uri
from airflow_provider_creatio.client.bulk_operation import FAILURE_REPORT_KEY, check_operation
from airflow_provider_creatio.client.lanes import DEFAULT_CONCURRENCY
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.operators.asset_events import AssetEventsMixin
from airflow_provider_creatio.operators.base import CreatioHookMixin
from airflow_provider_creatio.templated import as_count, as_filter, as_mapping, as_records

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import Context
    from airflow_provider_creatio.client.odata import Columns, Filter


class CreatioEntityOperator(AssetEventsMixin, CreatioHookMixin, BaseOperator):  # type: ignore[misc]
    """Base of the entity operators: the entity, the connection, one hook (one Creatio session) per run.

    Lineage (docs/guides/lineage.md): once a writer has written records, it records an event on the asset
    ``creatio://{host}/{entity}`` if a DAG mentions that asset; a reader emits nothing. OpenLineage gets the
    entity as an input or output dataset.

    :param entity: the Creatio object (entity set) name, e.g. ``Contact`` or ``UsrInvoice``. Templated.
    :param creatio_conn_id: the Airflow connection of type ``creatio``. Templated.
    :param hook_params: extra CreatioHook arguments (``retry_attempts``, ``timeout``, ``backoff_initial``...).
    :param check_columns: read the site's schema (``$metadata``, once per task) and refuse an unknown entity, or
        an unknown column in ``data``/``records``, ``select``, ``orderby``, ``expand`` or the keys of a mapping
        ``filter``, before anything is sent, suggesting the closest real names. Off by default for one-record
        operators and queries (Creatio refuses such a request by itself, before writing anything); on by default
        for the bulk operator, where one schema read is cheap against thousands of rows.
    """

    check_columns_by_default: ClassVar[bool] = False
    writes_entity: ClassVar[bool] = False  # a writer's outlet, a reader's inlet

    template_fields: Sequence[str] = ("entity", "creatio_conn_id")
    template_fields_renderers: ClassVar[dict[str, str]] = {
        "data": "json",
        "filter": "json",
        "records": "json",
    }
    ui_color = "#e6f1fd"

    def __init__(
        self,
        *,
        entity: str,
        creatio_conn_id: str = CreatioHook.default_conn_name,
        hook_params: dict[str, Any] | None = None,
        check_columns: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.entity = entity
        self.creatio_conn_id = creatio_conn_id
        self.hook_params = hook_params
        self.check_columns = self.check_columns_by_default if check_columns is None else check_columns
        self.rows_written: int | None = None  # set by a writer's run: records it left as asked
        # Object storage a run read, and wrote (location, records, files): OpenLineage datasets.
        self.files_read: list[str] = []
        self.files_written: list[tuple[str, int, int]] = []

    def execute(self, context: Context) -> Any:
        try:
            result = self.run(context)
        finally:
            self.keep_run_facts([self.lineage_entity])
            self.close_hook()
        if self.writes_entity and self.rows_written:
            self.emit_written(context, self.lineage_entity, {"records": self.rows_written})
        return result

    def run(self, context: Context) -> Any:
        raise NotImplementedError

    @property
    def lineage_entity(self) -> str:
        """The Creatio object the task reads or writes, as lineage names it (a file operator's ``ContactFile``)."""
        return self.entity

    def get_openlineage_facets_on_start(self) -> Any:
        """The entity as an input (reader) or output (writer) dataset (OpenLineage provider)."""
        return self._openlineage(complete=False)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """With what the run learned without an extra request: the schema if it read it, rows written, the files
        it read and wrote. Also sent for a failed task (rows written before the failure)."""
        return self._openlineage(complete=True)

    def _openlineage(self, *, complete: bool) -> Any:
        from airflow_provider_creatio import openlineage

        entity = openlineage.entity_dataset(
            self.site_url(),
            self.lineage_entity,
            output=self.writes_entity,
            schema=self.read_schema(self.lineage_entity) if complete else None,
            rows=self.rows_written if complete else None,
        )
        files_in = [openlineage.storage_dataset(uri, output=False) for uri in self.files_read]
        files_out = [
            openlineage.storage_dataset(uri, output=True, rows=rows, files=files)
            for uri, rows, files in self.files_written
        ]
        if self.writes_entity:
            return openlineage.operator_lineage(files_in, [entity, *files_out])
        return openlineage.operator_lineage([entity, *files_in], files_out)

    def refuse_unknown_columns(self, **names: Any) -> None:
        """With ``check_columns``, refuse names the entity lacks (see :meth:`CreatioHook.check_columns`)."""
        if self.check_columns:
            self.hook.check_columns(self.entity, **names)


class CreatioCreateEntityOperator(CreatioEntityOperator):
    """Create one record. The Id is chosen here (``record_id``, ``data["Id"]`` or a new one), so a create that is
    repeated after a lost answer, or a rerun, never makes a second record: it finds the first and returns it.

    :param data: the columns of the new record (lookups through their ``<Name>Id`` column). Templated.
    :param record_id: the Id to give the record (optional). Templated.
    :param return_record: return the stored record instead of its Id.

    XCom: the new record's Id (a string), or the whole record with ``return_record=True``.
    """

    template_fields: Sequence[str] = ("entity", "data", "record_id", "creatio_conn_id")
    api_calls_in_xcom = False  # the XCom is the record
    writes_entity = True

    def __init__(
        self,
        *,
        data: Mapping[str, Any] | str,
        record_id: str | None = None,
        return_record: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.data = data
        self.record_id = record_id
        self.return_record = return_record

    def run(self, context: Context) -> Any:
        data = as_mapping(self.data, "data")
        self.refuse_unknown_columns(data=data)
        outcome = self.hook.create_record(self.entity, data, self.record_id or None)
        if outcome.existed:
            self.log.warning(
                "%s(%s) already existed (a repeated create, or a rerun); it was not created again",
                self.entity,
                outcome.record_id,
            )
        else:
            self.log.info("Created %s(%s)", self.entity, outcome.record_id)
        self.rows_written = 1
        return outcome.record if self.return_record else outcome.record_id


class CreatioGetEntityOperator(CreatioEntityOperator):
    """Read one record by Id. A missing record fails the task with ``CreatioNotFoundError``.

    :param record_id: the record's Id. Templated.
    :param select: columns to return (a list or ``"Id,Name"``). Templated.
    :param expand: lookups to include as nested records (``Account``). Templated.

    XCom: the record (a dict of columns).
    """

    template_fields: Sequence[str] = ("entity", "record_id", "select", "expand", "creatio_conn_id")
    api_calls_in_xcom = False  # the XCom is the record

    def __init__(
        self, *, record_id: str, select: Columns = None, expand: Columns = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.record_id = record_id
        self.select = select
        self.expand = expand

    def run(self, context: Context) -> dict[str, Any]:
        self.refuse_unknown_columns(select=self.select, expand=self.expand)
        return self.hook.get_record(self.entity, self.record_id, self.select, self.expand)


class CreatioUpdateEntityOperator(CreatioEntityOperator):
    """Change columns of one record (PATCH).

    What a PATCH of a missing record does is the site's: the WSO2 Creatio connector reference documents Creatio creating the record with that
    Id, and a site that follows OData's protocol answers 404, which fails the task. With ``must_exist`` the record
    is read first (one GET of its Id) and a missing one fails the task on every site, with nothing written; the
    upsert operator creates a missing record on every site and says which it did.

    :param record_id: the record's Id. Templated.
    :param data: the columns to change. Templated.
    :param must_exist: never create: fail when the record does not exist (one more request).

    XCom: the record's Id.
    """

    template_fields: Sequence[str] = ("entity", "record_id", "data", "creatio_conn_id")
    writes_entity = True

    def __init__(
        self, *, record_id: str, data: Mapping[str, Any] | str, must_exist: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.record_id = record_id
        self.data = data
        self.must_exist = must_exist

    def run(self, context: Context) -> str:
        data = as_mapping(self.data, "data")
        self.refuse_unknown_columns(data=data)
        self.hook.update_record(self.entity, self.record_id, data, must_exist=self.must_exist)
        self.log.info("Updated %s(%s)", self.entity, self.record_id)
        self.rows_written = 1
        return str(self.record_id).strip()


class CreatioUpsertEntityOperator(CreatioEntityOperator):
    """Update one record, or create it with that Id when it does not exist (the WSO2 connector reference's update semantics).

    :param record_id: the record's Id. Templated.
    :param data: the columns to write. Templated.

    XCom: ``{"Id": ..., "action": "created" | "updated"}``.
    """

    template_fields: Sequence[str] = ("entity", "record_id", "data", "creatio_conn_id")
    writes_entity = True

    def __init__(self, *, record_id: str, data: Mapping[str, Any] | str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.record_id = record_id
        self.data = data

    def run(self, context: Context) -> dict[str, str]:
        data = as_mapping(self.data, "data")
        self.refuse_unknown_columns(data=data)
        action = self.hook.upsert_record(self.entity, self.record_id, data)
        self.log.info("Upsert of %s(%s): %s", self.entity, self.record_id, action.value)
        self.rows_written = 1
        return {"Id": str(self.record_id).strip(), "action": action.value}


class CreatioDeleteEntityOperator(CreatioEntityOperator):
    """Delete one record.

    :param record_id: the record's Id. Templated.
    :param missing_ok: succeed when the record does not exist (``deleted`` is then False); by default a
        missing record fails the task.

    XCom: ``{"Id": ..., "deleted": true | false}``.
    """

    template_fields: Sequence[str] = ("entity", "record_id", "creatio_conn_id")
    writes_entity = True

    def __init__(self, *, record_id: str, missing_ok: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.record_id = record_id
        self.missing_ok = missing_ok

    def run(self, context: Context) -> dict[str, Any]:
        self.refuse_unknown_columns()
        deleted = self.hook.delete_record(self.entity, self.record_id, self.missing_ok)
        if not deleted:
            self.log.info("%s(%s) did not exist; nothing to delete", self.entity, self.record_id)
        self.rows_written = int(deleted)
        return {"Id": str(self.record_id).strip(), "deleted": deleted}


class CreatioQueryEntitiesOperator(CreatioEntityOperator):
    """Read the records that match a filter, page by page (``$top``/``$skip`` with a stable ``$orderby``),
    holding one page at a time.

    :param filter: a raw OData expression (``"Email eq 'a@b.c'"``), or a mapping of column paths to values
        (``{"Status/Id": guid, "Name": "O'Brien", "ModifiedOn__ge": datetime}``) whose values are always quoted
        and escaped, so a value can never change the filter. Templated.
    :param select: columns to return. Templated.
    :param expand: lookups to include as nested records. Templated.
    :param orderby: sort order (``"ModifiedOn desc"``); ``Id`` is appended to keep paging stable. Templated.
    :param top: return only the first ``top`` records.
    :param max_records: a safety limit: when the query matches more records than this, the task fails instead
        of returning or writing a silently cut result. Use ``top`` to take only the first records.
    :param page_size: records per request (the server may cap it; that is detected).
    :param output_path: write the records to this file as JSON Lines instead of returning them: a local path or
        an object storage URI (``s3://bucket/out/cases.jsonl``, ``file:///data/x.jsonl``: whatever Airflow's
        ``ObjectStoragePath`` reaches), which every worker of a distributed deployment can read. The file appears
        only once complete. Templated.
    :param storage_conn_id: the Airflow connection that reaches ``output_path``'s store (also writable in the
        URI as ``s3://conn_id@bucket/key``). Templated.

    XCom: the list of records, or ``{"path": ..., "count": ...}`` with ``output_path``.
    """

    template_fields: Sequence[str] = (
        "entity",
        "filter",
        "select",
        "expand",
        "orderby",
        "output_path",
        "creatio_conn_id",
        "storage_conn_id",
    )

    def __init__(
        self,
        *,
        filter: Filter = None,
        select: Columns = None,
        expand: Columns = None,
        orderby: Columns = None,
        top: int | None = None,
        max_records: int | None = None,
        page_size: int | None = None,
        output_path: str | None = None,
        storage_conn_id: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.filter = filter
        self.select = select
        self.expand = expand
        self.orderby = orderby
        self.top = top
        self.max_records = max_records
        self.page_size = page_size
        self.output_path = output_path
        self.storage_conn_id = storage_conn_id

    def _limit(self) -> int | None:
        """How many records to fetch at most: ``top``, or one past ``max_records`` to notice an overflow."""
        guard = None if self.max_records is None else self.max_records + 1
        limits = [limit for limit in (self.top, guard) if limit is not None]
        return min(limits) if limits else None

    def _records(self) -> Iterable[dict[str, Any]]:
        filter = as_filter(self.filter)
        self.refuse_unknown_columns(
            filter=filter, select=self.select, expand=self.expand, orderby=self.orderby
        )
        records = self.hook.iter_records(
            self.entity,
            filter=filter,
            select=self.select,
            expand=self.expand,
            orderby=self.orderby,
            page_size=self.page_size,
            max_records=self._limit(),
        )
        for count, record in enumerate(records, start=1):
            if self.max_records is not None and count > self.max_records:
                raise AirflowException(
                    f"the query of {self.entity} matches more than max_records={self.max_records} records; "
                    "narrow the filter, raise max_records, take the first records with top, or set output_path"
                )
            yield record

    def run(self, context: Context) -> Any:
        if self.output_path:
            from airflow_provider_creatio import formats

            target = formats.storage_path(self.output_path, self.storage_conn_id)
            with formats.open_writer(target, formats.FileFormat.JSONL) as writer:
                count = writer.write_all(self._records())
            self.log.info("Wrote %d %s records to %s", count, self.entity, self.output_path)
            self.files_written = [(storage_uri(self.output_path), count, 1)]
            self.emit_asset(context, storage_uri(self.output_path), {"records": count})
            return {"path": str(self.output_path), "count": count}
        records = list(self._records())
        self.log.info("Read %d %s records", len(records), self.entity)
        return records


class CreatioBulkEntityOperator(CreatioEntityOperator):
    """Create, update, upsert or delete many records through OData ``$batch``, at most 100 requests per batch,
    with continue-on-error, and an outcome per record.

    :param operation: ``create``, ``update``, ``upsert`` or ``delete``. Templated.
    :param records: a list of records (dicts of columns; ``Id`` required except for create). For delete, bare Ids
        are accepted too. Templated; an XComArg or JSON text works.
    :param allow_partial: succeed even when some records failed (they are listed in the XCom value). By default
        any failed record fails the task, after every record was tried; the error lists the failures with
        Creatio's messages.
    :param continue_on_error: try every record (``Prefer: continue-on-error``); when False, stop at the first
        failure and skip the rest.
    :param batch_size: requests per ``$batch`` call, 1 to 100.
    :param missing_ok: for delete, a record that does not exist counts as done (action ``absent``).
    :param include_results: put the per-record outcomes in XCom (``results``), not only the summary.
    :param concurrency: ``$batch`` requests in flight at once, 1 to 16 (default 4; 1 sends one after the other).
        The outcomes are the same whatever the number. Templated.
    :param session_mode: ``nonblocking`` (the lanes share the task's one session: one login) or ``blocking``
        (each lane logs in with a session of its own: up to ``concurrency`` logins); by default the connection's
        ``session_mode`` extra. Templated.
    :param max_api_calls: fail before writing anything when the task would spend more API calls than this, as
        Creatio counts them against the daily quota (one per record, plus an upsert's lookups and the schema
        read); the error says how many it needs. None: no limit.

    XCom: ``{"operation", "entity", "count", "succeeded", "failed", "actions": {action: count}, "batch_calls",
    "results": [{"index", "Id", "ok", "action", ("status", "error" when failed)}]}``, the load's shape. When the
    task fails, the same value is pushed under the XCom key ``bulk_report`` for inspection.
    """

    template_fields: Sequence[str] = (
        "entity",
        "operation",
        "records",
        "concurrency",
        "session_mode",
        "creatio_conn_id",
    )
    writes_entity = True
    check_columns_by_default = True

    def __init__(
        self,
        *,
        operation: str,
        records: Sequence[Any] | str,
        allow_partial: bool = False,
        continue_on_error: bool = True,
        batch_size: int = 100,
        missing_ok: bool = False,
        include_results: bool = True,
        concurrency: int | str = DEFAULT_CONCURRENCY,
        session_mode: str | None = None,
        max_api_calls: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.operation = check_operation(operation)
        self.max_api_calls = max_api_calls
        self.records = records
        self.allow_partial = allow_partial
        self.continue_on_error = continue_on_error
        self.batch_size = batch_size
        self.missing_ok = missing_ok
        self.include_results = include_results
        self.concurrency = concurrency
        self.session_mode = session_mode

    def run(self, context: Context) -> dict[str, Any]:
        records = as_records(self.records)
        self.refuse_unknown_columns(data=_record_columns(records))
        if self.max_api_calls is not None:
            needed = self.hook.bulk_api_calls(self.operation, self.entity, records)
            self.refuse_over_api_calls(self.max_api_calls, needed)
        report = self.hook.bulk_records(
            self.operation,
            self.entity,
            records,
            continue_on_error=self.continue_on_error,
            batch_size=self.batch_size,
            missing_ok=self.missing_ok,
            concurrency=as_count(self.concurrency, "concurrency"),
            session_mode=self.session_mode or None,
        )
        tally = report.tally()
        self.rows_written = tally.written
        value = tally.summary()
        self.log.info("Bulk %s of %s: %s", self.operation, self.entity, value)
        if self.include_results:
            value["results"] = [outcome.to_dict() for outcome in report.outcomes]
        if tally.failed and not self.allow_partial:
            context["ti"].xcom_push(key=FAILURE_REPORT_KEY, value=value)
            raise AirflowException(
                f"bulk {self.operation} of {self.entity}: {tally.failed} of {tally.count} records failed:\n"
                f"{tally.describe_failures()}"
            )
        if tally.failed:
            self.log.warning("%d records failed:\n%s", tally.failed, tally.describe_failures())
        return value


def _record_columns(records: Iterable[object]) -> list[str]:
    """Every column named by the records, once each, in first-seen order (a bare Id names none)."""
    names: dict[str, None] = {}
    for record in records:
        if isinstance(record, Mapping):
            names.update(dict.fromkeys(key for key in record if isinstance(key, str)))
    return list(names)
