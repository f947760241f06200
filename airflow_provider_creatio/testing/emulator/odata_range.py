"""Index range reads: which list requests a SQL database answers by seeking an index instead of scanning.

A request qualifies when it orders by an indexed key, ascending, without ``$skip``, and its ``$filter`` bounds the
key's leading column (keyset paging): ``Id gt <guid>`` for ``$orderby=Id``; ``ModifiedOn gt T``, ``ModifiedOn ge T``,
``(ModifiedOn gt T) or (ModifiedOn eq T and Id gt <guid>)``, and an upper bound ``ModifiedOn lt/le U``, for
``$orderby=ModifiedOn,Id`` (CreatedOn likewise). The rest of the filter is checked row by row as the seek walks, and
every row walked counts as read. The emulator's indexes (its choice: Creatio's own depend on the site's database)
are the primary key ``Id`` and ``(CreatedOn, Id)`` and ``(ModifiedOn, Id)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from airflow_provider_creatio.testing.emulator.odata_filter import (
    Compare,
    Literal,
    Logical,
    Node,
    Path,
    parse_filter,
)
from airflow_provider_creatio.testing.emulator.odata_query import compile_orderby
from airflow_provider_creatio.testing.emulator.store import EntityStore, IndexKey, KeyRange, Row
from airflow_provider_creatio.testing.emulator.values import datetime_ticks, normalize_datetime

INDEXED_ORDERS = (("Id",), ("CreatedOn", "Id"), ("ModifiedOn", "Id"))
_AFTER_ALL = (2,)  # sorts after every key part, which is (0,) for null or (1, value)


class RangePlan(NamedTuple):
    sorted_by: tuple[str, IndexKey]
    bounds: KeyRange


def plan_range(
    store: EntityStore, entity: str, filter_text: str, orderby: str, skip: int
) -> RangePlan | None:
    """How to answer the request by an index range, or None when it must be scanned (or read with ``$skip``)."""
    columns = tuple(item.strip() for item in orderby.split(",")) if orderby else ()
    if skip or columns not in INDEXED_ORDERS or not filter_text:
        return None
    bounds = _bounds(store, columns, _conjuncts(parse_filter(filter_text)))
    if bounds is None:
        return None
    keys = [key for key, _descending in compile_orderby(store, entity, orderby)]

    def index_key(row: Row) -> tuple[Any, ...]:
        return tuple(key(row) for key in keys)

    return RangePlan((",".join(columns), index_key), bounds)


def _conjuncts(node: Node) -> Iterator[Node]:
    if isinstance(node, Logical) and node.op == "and":
        yield from _conjuncts(node.left)
        yield from _conjuncts(node.right)
    else:
        yield node


def _bounds(store: EntityStore, columns: tuple[str, ...], conjuncts: Iterator[Node]) -> KeyRange | None:
    lead = columns[0]
    start: tuple[Any, ...] | None = None
    start_open = False
    stop: tuple[Any, ...] | None = None
    for node in conjuncts:
        keyset = _keyset_after(store, lead, node) if len(columns) == 2 else None
        if keyset is not None:  # tighter than any plain lower bound beside it
            start, start_open = keyset, True
            continue
        compared = _compared(store, lead, node)
        if compared is None:
            continue
        op, value = compared
        if op in ("gt", "ge") and not start_open:
            # Id alone: the key has one part; (C, Id): gt C skips every Id of C, ge C starts at its first
            start = (value,) if len(columns) == 1 or op == "ge" else (value, _AFTER_ALL)
            start_open = op == "gt" and len(columns) == 1
        elif op in ("lt", "le") and stop is None:
            stop = (value,) if op == "lt" else (value, _AFTER_ALL)
    if start is None:
        return None
    return KeyRange(start, start_open, stop, stop_open=True)


def _keyset_after(store: EntityStore, lead: str, node: Node) -> tuple[Any, ...] | None:
    """``(C gt T) or (C eq T and Id gt G)``: the key (T, G) to start after."""
    if not (isinstance(node, Logical) and node.op == "or" and isinstance(node.right, Logical)):
        return None
    later, tie, after = (
        _compared(store, lead, node.left),
        _compared(store, lead, node.right.left),
        _compared(store, "Id", node.right.right),
    )
    if node.right.op != "and" or later is None or tie is None or after is None:
        return None
    if (later[0], tie[0], after[0]) != ("gt", "eq", "gt") or later[1] != tie[1]:
        return None
    return (later[1], after[1])


def _compared(store: EntityStore, column: str, node: Node) -> tuple[str, tuple[Any, ...]] | None:
    """``column <op> literal`` as (op, key part), or None."""
    if not isinstance(node, Compare) or node.left != Path((column,)) or not isinstance(node.right, Literal):
        return None
    literal = node.right
    if literal.kind == "guid":
        return node.op, (1, store.guid_key(str(literal.value).lower()))
    if literal.kind == "datetime":
        return node.op, (1, datetime_ticks(normalize_datetime(literal.value)))
    return None
