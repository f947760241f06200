"""Paged reads: every record of a query, page by page, one page held at a time.

:func:`iter_records` pages with ``$top``/``$skip`` (any order the caller wants); :func:`iter_keyset` pages on an
indexed key (see :mod:`keyset`), which costs the server one range read per page. Both take a *client*
(:class:`~.http.CallExecutor`) and build their requests with :mod:`odata`; nothing here sends bytes itself, and
nothing imports Airflow. A page refused for Creatio's RAM limit is asked again smaller (:mod:`page_fit`), at the
same position: the sizes that fitted are kept in the ``page_sizes`` a caller passes (a hook keeps one per task).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_creatio.client import odata, page_fit, validation
from airflow_provider_creatio.client.errors import CreatioError, CreatioMemoryLimitError
from airflow_provider_creatio.client.filter_nodes import DEFAULT_MAX_FILTER_NODES, check_filter_nodes
from airflow_provider_creatio.client.http import Call, CallExecutor
from airflow_provider_creatio.client.keyset import DEFAULT_KEYSET_PAGE_SIZE, MAX_PAGE_SIZE, KeysetCursor

DEFAULT_PAGE_SIZE = 1000
log = logging.getLogger(__name__)


def stable_orderby(orderby: str | Sequence[str] | None) -> str:
    """The caller's ``$orderby`` with ``Id`` appended as a tie-breaker, so that ``$top``/``$skip`` pages neither
    repeat nor skip records that share a sort value. ``Id`` alone when there is no order."""
    rendered = odata.orderby_option(orderby)
    items = rendered.split(",") if rendered else []
    if not any(item.split(" ")[0] == "Id" for item in items):
        items.append("Id")
    return ",".join(items)


@dataclass
class _PageEnd:
    """Decides whether a page was the last one.

    A page shorter than asked is the end only if it is also shorter than what the server gives at most: Creatio
    sites cap the rows of one answer, and a capped page looks short. The first request asks for ``$count``, which
    settles the question at once; without a count, the first short page is taken as the server's cap and one more
    request confirms the end."""

    total: int | None = None
    cap: int | None = None

    def reached(self, fetched: int, got: int, asked: int) -> bool:
        if got == 0 or (self.total is not None and fetched >= self.total):
            return True
        if got >= asked:
            return False
        if self.total is None and self.cap is not None and got < self.cap:
            return True
        self.cap = got
        return False


def iter_records(
    client: CallExecutor,
    entity: str,
    *,
    filter: str | Mapping[str, Any] | None = None,
    select: str | Sequence[str] | None = None,
    expand: str | Sequence[str] | None = None,
    orderby: str | Sequence[str] | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    max_records: int | None = None,
    page_sizes: page_fit.PageSizes | None = None,
) -> Iterator[dict[str, Any]]:
    """Every matching record, page by page (``$top``/``$skip`` with a stable ``$orderby``), until the end or
    ``max_records``. Only the current page is held: each record is released once the caller has taken it, and the
    next page is requested only when the current one is used up. A page refused for the RAM limit is asked again
    at the same ``$skip`` with half the ``$top`` (:mod:`page_fit`)."""
    validation.check_count(page_size, "page_size")
    if max_records is not None:
        validation.check_count(max_records, "max_records", allow_zero=True)
    conditions = odata.build_filter(filter)
    order = stable_orderby(orderby)
    sizes = page_sizes or page_fit.PageSizes()
    shape = page_fit.read_shape(entity, select, expand)
    end = _PageEnd()
    fetched = 0
    while max_records is None or fetched < max_records:
        size = sizes.size(shape, page_size)
        asked = size if max_records is None else min(size, max_records - fetched)
        call = odata.query_records(
            entity,
            filter=conditions,
            select=select,
            expand=expand,
            orderby=order,
            top=asked,
            skip=fetched,
            count=fetched == 0,
        )
        try:
            page = client.execute(call)
        except CreatioMemoryLimitError as error:
            sizes.shrink(shape, asked, error)
            continue
        sizes.fitted(shape, size)
        if fetched == 0:
            end.total = page.count
        records = page.records
        del page
        got = len(records)
        fetched += got
        records.reverse()  # pop() from the end hands records out in order and drops each one as it goes
        while records:
            yield records.pop()
        if end.reached(fetched, got, asked):
            return


def iter_keyset(
    client: CallExecutor,
    entity: str,
    *,
    filter: str | Mapping[str, Any] | None = None,
    select: str | Sequence[str] | None = None,
    expand: str | Sequence[str] | None = None,
    column: str | None = None,
    page_size: int = DEFAULT_KEYSET_PAGE_SIZE,
    guid_comparison: bool = True,
    max_filter_nodes: int = DEFAULT_MAX_FILTER_NODES,
    page_sizes: page_fit.PageSizes | None = None,
) -> Iterator[dict[str, Any]]:
    """Every matching record in (``column``, ``Id``) order, or ``Id`` order without a column, page by page on the
    key (never ``$skip``). ``select`` gains ``Id`` and ``column`` when it leaves them out: the cursor needs them.
    One page is held at a time. A ``filter`` that leaves no room for the keyset condition within
    ``max_filter_nodes`` is refused before the first page. A site that refuses to compare GUIDs makes the read go
    on without (:func:`fall_back_or_raise`); a date column that only the fall-back added is left out of the
    records, which keep the columns the read started with. A page refused for the RAM limit is asked again from
    the same position with half the ``$top`` (:mod:`page_fit`)."""
    sizes = page_sizes or page_fit.PageSizes()
    shape = page_fit.read_shape(entity, select, expand)
    cursor = KeysetCursor(column, sizes.size(shape, page_size), guid_comparison=guid_comparison)
    conditions = odata.build_filter(filter)
    check_keyset_filter(cursor, conditions, max_filter_nodes)
    asked = odata.listed_items(select, "select")
    added: str | None = None  # a date column only the fall-back asks for, left out of the records
    while not cursor.done:
        try:
            page = client.execute(keyset_page_call(entity, cursor, conditions, select, expand))
        except CreatioMemoryLimitError as error:
            shrink_page(cursor, sizes, shape, error)
            continue
        except CreatioError as error:
            fall_back_or_raise(cursor, error, entity, conditions, max_filter_nodes)
            if asked and cursor.column != column and cursor.column not in asked:
                added = cursor.column
            continue
        sizes.fitted(shape, cursor.page_size)
        records = list(cursor.take(page.records))
        del page
        if added:
            for record in records:
                record.pop(added, None)
        records.reverse()  # pop() from the end hands records out in order and drops each one as it goes
        while records:
            yield records.pop()


def shrink_page(
    cursor: KeysetCursor, sizes: page_fit.PageSizes, shape: page_fit.ReadShape, error: CreatioMemoryLimitError
) -> None:
    """After the cursor's page hit the RAM limit: ask the same page again with half the rows (raises at the
    floor, or for a whole date's rows, which cannot be split)."""
    if not cursor.resizable:
        raise page_fit.too_large(shape[0], MAX_PAGE_SIZE, error)
    cursor.resize(sizes.shrink(shape, cursor.page_size, error))


def fall_back_or_raise(
    cursor: KeysetCursor, error: CreatioError, entity: str, conditions: str | None, max_filter_nodes: int
) -> None:
    """After the site refused the cursor's first GUID comparison, go on without comparing GUIDs (logged: once
    per read); re-raise any other error."""
    if not cursor.can_fall_back(error):
        raise error
    cursor.fall_back()
    check_keyset_filter(cursor, conditions, max_filter_nodes)
    log.warning(
        "Creatio refused to compare GUIDs (%s): reading %s on %s alone from now on, as guid_comparison=False "
        "does (docs/creatio-notes/keyset-paging-and-guid-order.md)",
        error.server_message or error.message,
        entity,
        cursor.column,
    )


def check_keyset_filter(cursor: KeysetCursor, conditions: str | None, max_filter_nodes: int) -> None:
    """Refuse, before any page is read, a caller's filter that the keyset condition would push over the limit."""
    if conditions:
        combined = f"({conditions}) and ({cursor.widest_condition()})"
        check_filter_nodes(combined, max_filter_nodes, "the filter with the keyset paging condition")


def _and_filters(*parts: str | None) -> str | None:
    return " and ".join(f"({part})" for part in parts if part) or None


def keyset_page_call(
    entity: str,
    cursor: KeysetCursor,
    conditions: str | None,
    select: str | Sequence[str] | None = None,
    expand: str | Sequence[str] | None = None,
) -> Call[odata.QueryPage]:
    """The request of the cursor's next page (``conditions``: the caller's rendered ``$filter``, ANDed with the
    keyset's), answering the page's records. ``select`` gains the columns the cursor needs. The sync and async
    keyset reads both send this; hand the answer's ``records`` to ``cursor.take``."""
    columns = odata.listed_items(select, "select")
    if columns:
        columns += [name for name in cursor.selected if name not in columns]
    request = cursor.next_request()
    return odata.query_records(
        entity,
        filter=_and_filters(conditions, request.filter),
        select=columns or None,
        expand=expand,
        orderby=request.orderby,
        top=request.top,
    )


def last_in_order_call(entity: str, column: str, conditions: str | None) -> Call[odata.QueryPage]:
    """The request of the last matching record in (``column``, ``Id``) order (one record, its ``Id`` and
    ``column``): where a keyset read that only wants what comes later starts."""
    return odata.query_records(
        entity, filter=conditions, select=["Id", column], orderby=f"{column} desc,Id desc", top=1
    )
