"""Index range reads: which list requests a SQL database answers by seeking an index instead of scanning.

A request qualifies when it orders by an indexed key, all ascending or all descending (walked from the end),
without ``$skip``, and has a ``$filter``. The
filter's bounds on the key's leading column set where the walk starts and stops (keyset paging): ``Id gt <guid>``
for ``$orderby=Id``; ``ModifiedOn gt T``, ``ModifiedOn ge T``, ``(ModifiedOn gt T) or (ModifiedOn eq T and Id gt
<guid>)``, an upper bound ``ModifiedOn lt/le U`` and ``ModifiedOn eq T`` (``eq null`` too: nulls sort first), for
``$orderby=ModifiedOn,Id`` (CreatedOn likewise). Without a lower bound the walk starts at the index's first row, as
a database's ordered index scan does for a ``$top`` in index order. The rest of the filter is checked row by row as
the walk goes, and every row walked counts as read; the walk stops at ``$top`` matches or the range's end. The
emulator's indexes (its choice: Creatio's own depend on the site's database) are the primary key ``Id`` and
``(CreatedOn, Id)`` and ``(ModifiedOn, Id)``.
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
    residual: bool  # the filter says more than the range: each row walked must still be checked
    backward: bool  # every column descending: the index is walked from its end, as a backward index scan does


def plan_range(
    store: EntityStore, entity: str, filter_text: str, orderby: str, skip: int
) -> RangePlan | None:
    """How to answer the request by an index range, or None when it must be scanned (or read with ``$skip``)."""
    items = [item.split() for item in orderby.split(",")] if orderby else []
    columns = tuple(words[0] for words in items if words)
    directions = {len(words) == 2 and words[1] == "desc" for words in items}
    if skip or columns not in INDEXED_ORDERS or not filter_text or len(directions) != 1:
        return None
    found = _bounds(store, columns, _conjuncts(parse_filter(filter_text)))
    if found is None:
        return None
    bounds, residual = found
    keys = [key for key, _descending in compile_orderby(store, entity, ",".join(columns))]

    def index_key(row: Row) -> tuple[Any, ...]:
        return tuple(key(row) for key in keys)

    return RangePlan((",".join(columns), index_key), bounds, residual, directions == {True})


def _conjuncts(node: Node) -> Iterator[Node]:
    if isinstance(node, Logical) and node.op == "and":
        yield from _conjuncts(node.left)
        yield from _conjuncts(node.right)
    else:
        yield node


Bound = tuple[tuple[Any, ...], bool]  # (key, open): open excludes rows whose key equals it


def _bounds(
    store: EntityStore, columns: tuple[str, ...], conjuncts: Iterator[Node]
) -> tuple[KeyRange, bool] | None:
    """The tightest range the conjuncts bound the index's leading column to, and whether any conjunct is not a
    bound (then rows in the range must still be checked). Looser bounds are implied by the tightest."""
    lead, pair = columns[0], len(columns) == 2
    lower: list[Bound] = []
    upper: list[Bound] = []
    residual = False
    for node in conjuncts:
        keyset = _keyset_after(store, lead, node) if pair else None
        compared = None if keyset is not None else _compared(store, lead, node)
        if keyset is not None:
            lower.append((keyset, True))
        elif compared is None:
            residual = True
        elif compared[0] == "eq":
            value = compared[1]
            lower.append(((value,), False))
            upper.append(((value, _AFTER_ALL) if pair else (value,), pair))
        elif compared[0] in ("gt", "ge"):
            op, value = compared
            # Id alone: the key has one part; (C, Id): gt C skips every Id of C, ge C starts at its first
            if pair:
                lower.append(((value, _AFTER_ALL) if op == "gt" else (value,), False))
            else:
                lower.append(((value,), op == "gt"))
        else:
            op, value = compared
            upper.append(((value,) if op == "lt" or not pair else (value, _AFTER_ALL), op == "lt" or pair))
    start, start_open = max(lower, key=lambda bound: (bound[0], bound[1])) if lower else (None, False)
    stop, stop_open = min(upper, key=lambda bound: (bound[0], not bound[1])) if upper else (None, False)
    return KeyRange(start, start_open, stop, stop_open), residual


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
    if node.op not in ("eq", "gt", "ge", "lt", "le"):
        return None  # ne bounds nothing: checked row by row
    literal = node.right
    if literal.kind == "guid":
        return node.op, (1, store.guid_key(str(literal.value).lower()))
    if literal.kind == "datetime":
        return node.op, (1, datetime_ticks(normalize_datetime(literal.value)))
    if literal.kind == "null" and node.op == "eq":
        return node.op, (0,)
    return None
