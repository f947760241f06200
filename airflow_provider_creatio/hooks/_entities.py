"""Entity (OData 4) calls of CreatioHook. Kept in its own module; CreatioHook mixes it in.

Each method hands its arguments to one function: a request builder of :mod:`airflow_provider_creatio.client.odata`
whose call runs on the hook's one session, a flow of several calls in the flow modules
(:mod:`~airflow_provider_creatio.client.records`, :mod:`~airflow_provider_creatio.client.paging`,
:mod:`~airflow_provider_creatio.client.bulk`) given the hook's client, or one look of
:mod:`~airflow_provider_creatio.client.watch` with its verdict. The checks, retries and errors are theirs; the only
things added here are ``iter_records``'s default page size, the site's schema (:mod:`.client.schema`), kept
for the hook's life so that ``$metadata`` is read once, and the page sizes that fit the site's RAM limit of a read
(:mod:`.client.page_fit`), kept for the hook's life so that one task learns them once. The client modules are imported inside the methods, so
importing the hook stays cheap.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_provider_creatio.client.lanes import DEFAULT_CONCURRENCY

if TYPE_CHECKING:
    from airflow_provider_creatio.client.bulk import BulkReport, BulkRun
    from airflow_provider_creatio.client.bulk_operation import BulkOperation
    from airflow_provider_creatio.client.config import SessionMode
    from airflow_provider_creatio.client.http import Call
    from airflow_provider_creatio.client.odata import Columns, Filter, QueryPage
    from airflow_provider_creatio.client.page_fit import PageSizes
    from airflow_provider_creatio.client.records import CreateOutcome, UpsertAction
    from airflow_provider_creatio.client.schema import EntitySchema, ServiceSchema
    from airflow_provider_creatio.client.transport import CreatioClient
    from airflow_provider_creatio.client.watch import RecordCondition, WatchOutcome, WatchSpec

T = TypeVar("T")

RecordId = str | uuid.UUID


class EntityCallsMixin:
    """Record CRUD, upsert, paged queries, $batch bulk operations, and the schema ($metadata) with column checks."""

    if TYPE_CHECKING:

        @property
        def client(self) -> CreatioClient: ...

        def call(self, call: Call[T]) -> T: ...

        def lane_sessions(
            self, session_mode: SessionMode | str | None = None
        ) -> Callable[[int], CreatioClient]: ...

    @cached_property
    def page_sizes(self) -> PageSizes:
        """The page sizes the site's RAM limit of a read allowed, per read shape, for every paged read of this
        hook (one task)."""
        from airflow_provider_creatio.client.page_fit import PageSizes

        return PageSizes()

    def create_record(
        self, entity: str, data: Mapping[str, Any], record_id: RecordId | None = None
    ) -> CreateOutcome:
        """Create a record with a client-chosen Id; safe to retry (see :func:`client.records.create`)."""
        from airflow_provider_creatio.client import records

        return records.create(self.client, entity, data, record_id)

    def get_record(
        self, entity: str, record_id: RecordId, select: Columns = None, expand: Columns = None
    ) -> dict[str, Any]:
        """One record; raises ``CreatioNotFoundError`` when it does not exist."""
        from airflow_provider_creatio.client import odata

        return self.call(odata.get_record(entity, record_id, select, expand))

    def update_record(
        self, entity: str, record_id: RecordId, data: Mapping[str, Any], *, must_exist: bool = False
    ) -> None:
        """PATCH the given columns. Of a missing record, a bare PATCH does what the site does: creates it with
        that Id (the WSO2 Creatio connector reference) or raises ``CreatioNotFoundError`` (a 404). ``must_exist`` reads the record's Id first
        and raises ``CreatioNotFoundError`` on every site, with nothing written."""
        from airflow_provider_creatio.client import odata, records

        if must_exist:
            records.update_existing(self.client, entity, record_id, data)
        else:
            self.call(odata.update_record(entity, record_id, data))

    def upsert_record(self, entity: str, record_id: RecordId, data: Mapping[str, Any]) -> UpsertAction:
        """Update the record, or create it with that Id."""
        from airflow_provider_creatio.client import records

        return records.upsert(self.client, entity, record_id, data)

    def delete_record(self, entity: str, record_id: RecordId, missing_ok: bool = False) -> bool:
        """True when deleted; a missing record raises ``CreatioNotFoundError``, or gives False with ``missing_ok``."""
        from airflow_provider_creatio.client import odata

        return self.call(odata.delete_record(entity, record_id, missing_ok))

    def query_page(
        self,
        entity: str,
        *,
        filter: Filter = None,
        select: Columns = None,
        expand: Columns = None,
        orderby: Columns = None,
        top: int | None = None,
        skip: int | None = None,
        count: bool = False,
    ) -> QueryPage:
        """One GET of a collection, exactly as asked (no paging)."""
        from airflow_provider_creatio.client import odata

        return self.call(
            odata.query_records(
                entity,
                filter=filter,
                select=select,
                expand=expand,
                orderby=orderby,
                top=top,
                skip=skip,
                count=count,
            )
        )

    def iter_records(
        self,
        entity: str,
        *,
        filter: Filter = None,
        select: Columns = None,
        expand: Columns = None,
        orderby: Columns = None,
        page_size: int | None = None,
        max_records: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every matching record, fetched page by page with a stable order, one page held at a time."""
        from airflow_provider_creatio.client import paging

        return paging.iter_records(
            self.client,
            entity,
            filter=filter,
            select=select,
            expand=expand,
            orderby=orderby,
            page_size=page_size or paging.DEFAULT_PAGE_SIZE,
            max_records=max_records,
            page_sizes=self.page_sizes,
        )

    def iter_keyset(
        self,
        entity: str,
        *,
        filter: Filter = None,
        select: Columns = None,
        expand: Columns = None,
        column: str | None = None,
        page_size: int | None = None,
        guid_comparison: bool = True,
    ) -> Iterator[dict[str, Any]]:
        """Every matching record in (``column``, ``Id``) order (``Id`` alone without a column), paged on that key:
        one index range read per page, never ``$skip`` (see :mod:`.client.keyset`)."""
        from airflow_provider_creatio.client import keyset, paging

        return paging.iter_keyset(
            self.client,
            entity,
            filter=filter,
            select=select,
            expand=expand,
            column=column,
            page_size=page_size or keyset.DEFAULT_KEYSET_PAGE_SIZE,
            guid_comparison=guid_comparison,
            max_filter_nodes=self.client.config.odata_max_filter_nodes,
            page_sizes=self.page_sizes,
        )

    def count_records(self, entity: str, filter: Filter = None) -> int:
        """How many records of ``entity`` match ``filter`` (all of them without one), as the site counts them."""
        from airflow_provider_creatio.client import odata

        return self.call(odata.count_records(entity, filter))

    def bulk_records(
        self,
        operation: BulkOperation | str,
        entity: str,
        records: Sequence[object],
        *,
        continue_on_error: bool = True,
        batch_size: int = 100,
        missing_ok: bool = False,
        concurrency: int = DEFAULT_CONCURRENCY,
        session_mode: SessionMode | str | None = None,
    ) -> BulkReport:
        """Create, update, upsert or delete many records through ``$batch`` (see :func:`client.bulk.bulk`), up to
        ``concurrency`` batches at once, on sessions as ``session_mode`` says (None: the connection's; see
        :meth:`lane_sessions`). ``concurrency=1`` sends one batch after the other in this thread."""
        from airflow_provider_creatio.client import bulk

        run = self.bulk_run(
            operation,
            entity,
            continue_on_error=continue_on_error,
            batch_size=batch_size,
            missing_ok=missing_ok,
            concurrency=concurrency,
            session_mode=session_mode,
        )
        return bulk.report(run, records)

    def bulk_run(
        self,
        operation: BulkOperation | str,
        entity: str,
        *,
        continue_on_error: bool = True,
        batch_size: int = 100,
        missing_ok: bool = False,
        concurrency: int = DEFAULT_CONCURRENCY,
        session_mode: SessionMode | str | None = None,
    ) -> BulkRun:
        """A bulk run to stream records through (:class:`client.bulk.BulkRun`; use it in a ``with``), on
        ``concurrency`` lanes of this hook's sessions (:meth:`lane_sessions`)."""
        from airflow_provider_creatio.client import bulk
        from airflow_provider_creatio.client.lanes import Lanes

        return bulk.BulkRun(
            Lanes(concurrency, self.lane_sessions(session_mode)),
            operation,
            entity,
            continue_on_error=continue_on_error,
            batch_size=batch_size,
            missing_ok=missing_ok,
            max_filter_nodes=self.client.config.odata_max_filter_nodes,
            concurrency=concurrency,
        )

    def bulk_api_calls(self, operation: BulkOperation | str, entity: str, records: Sequence[object]) -> int:
        """The API calls :meth:`bulk_records` would spend on ``records`` (see :func:`client.bulk.api_calls_needed`)."""
        from airflow_provider_creatio.client import bulk

        return bulk.api_calls_needed(
            operation, entity, records, max_filter_nodes=self.client.config.odata_max_filter_nodes
        )

    def watch(
        self,
        spec: WatchSpec,
        condition: RecordCondition,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
    ) -> WatchOutcome:
        """One look at a watched record or query, and the verdict on it (a vanished record fails the wait)."""
        from airflow_provider_creatio.client import watch

        return watch.evaluate(spec, condition, self.call(watch.watch_call(spec)), predicate)

    # ----------------------------------------------------------------- schema ($metadata) and column checks

    @cached_property
    def service_schema(self) -> ServiceSchema:
        """The site's whole schema, read from ``$metadata`` on first use and kept for this hook's life: one read
        however many entities are asked about (the document is several MB on a real site)."""
        from airflow_provider_creatio.client import schema

        return self.call(schema.metadata_call())

    def list_entities(self) -> list[str]:
        """The names of every entity the site offers over OData, sorted."""
        return self.service_schema.entity_names

    def get_entity_schema(self, entity: str) -> EntitySchema:
        """The key, columns (EDM type, nullability) and lookups of ``entity``; ``CreatioUnknownEntityError``
        (with the closest names) when the site has none of that name."""
        from airflow_provider_creatio.client import validation

        return self.service_schema.entity(validation.check_entity_name(entity))

    def check_columns(
        self,
        entity: str,
        *,
        data: Iterable[str] = (),
        select: Columns = None,
        expand: Columns = None,
        orderby: Columns = None,
        filter: Filter = None,
    ) -> None:
        """Refuse, before anything is written, a name ``entity`` does not have: a key of ``data`` (the columns of a
        write), or a name in ``select``, ``expand``, ``orderby`` or a mapping ``filter``
        (``CreatioUnknownColumnError``, naming the closest real ones). See :mod:`client.columns` for what is
        legal where."""
        from airflow_provider_creatio.client import columns

        schema = self.get_entity_schema(entity)
        columns.check_data(schema, data)
        columns.check_query(
            self.service_schema, schema, select=select, expand=expand, orderby=orderby, filter=filter
        )
