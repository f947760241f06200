"""Split a read into ranges of a date column that can be read side by side, each one keyset-paged on its own.

Two cheap requests find the first and the last matching record in (column, ``Id``) order (one record each, an
index seek on the server); the span between is cut into equal slices. The first range starts at the first value
and the last is open above, so a record created while the extract runs still falls into one. A record whose
column is null falls into none of the slices. SQL Server sorts nulls first and PostgreSQL last, so one of the two
answers shows such a record when there is one: the span is then asked again without them, and a range of their
own reads them (paged on ``Id`` alone). Each record matches exactly one range's filter: read whole, the ranges give
every record once.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from airflow_provider_creatio.client import odata
from airflow_provider_creatio.client.http import Call
from airflow_provider_creatio.client.keyset import filter_date_time, parse_date_time
from airflow_provider_creatio.client.validation import check_count

MAX_PARALLELISM = 32


@dataclass(frozen=True)
class KeyRange:
    """One range's condition (and-ed with the read's own filter) and the date column its pages turn on (None:
    ``Id`` alone)."""

    condition: str
    column: str | None


def span_calls(
    entity: str, column: str, conditions: str | None, *, without_nulls: bool = False
) -> tuple[Call[odata.QueryPage], Call[odata.QueryPage]]:
    """The first and the last matching record in (``column``, ``Id``) order (``without_nulls``: of those with a
    value)."""
    where = _and(conditions, f"{column} ne null") if without_nulls else conditions
    return _one(entity, column, where, f"{column},Id"), _one(entity, column, where, f"{column} desc,Id desc")


def key_ranges(
    column: str, span: tuple[str, str], parts: int, *, nulls: bool, null_column: str | None
) -> list[KeyRange]:
    """``parts`` ranges of ``column`` from the first moment of ``span``, cut at equal steps up to its last (fewer
    when the span is too short to cut), the last open above; then, when there are ``nulls``, the range of the
    records without a value, paged on ``null_column``."""
    check_count(parts, "parallelism", maximum=MAX_PARALLELISM)
    edges: list[str | None] = [span[0], *_bounds(*span, parts), None]
    ranges = [KeyRange(_between(column, low, high), column) for low, high in itertools.pairwise(edges)]
    return ranges + ([KeyRange(f"{column} eq null", null_column)] if nulls else [])


def _bounds(first: str, last: str, parts: int) -> list[str]:
    """The inner bounds: ``parts - 1`` moments cutting [first, last] into equal slices, without repeats."""
    low, high = parse_date_time(first), parse_date_time(last)
    step = (high - low) / parts
    if step <= dt.timedelta(0):
        return []
    cuts = (low + step * number for number in range(1, parts))  # a microsecond is the finest cut
    return list(dict.fromkeys(filter_date_time(cut) for cut in cuts if cut > low))


def _between(column: str, low: str | None, high: str | None) -> str:
    bounds = [f"{column} ge {low}"] if low else []
    return " and ".join([*bounds, f"{column} lt {high}"] if high else bounds)


def _one(entity: str, column: str, conditions: str | None, orderby: str) -> Call[odata.QueryPage]:
    return odata.query_records(entity, filter=conditions, select=["Id", column], orderby=orderby, top=1)


def _and(conditions: str | None, condition: str) -> str:
    return f"({conditions}) and {condition}" if conditions else condition
