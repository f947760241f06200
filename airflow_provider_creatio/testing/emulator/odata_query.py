"""OData query options against the store's schemas: ``$filter`` trees become predicates, ``$orderby`` sort keys,
``$select``/``$expand`` a projection. Every error is a QueryError or a store error whose message goes on the wire.

Comparisons follow SQL Server's default collation (text ignores case) and SQL null rules (an ordering comparison
with a null is false). An empty lookup (the zero GUID) and an empty date (year 1) count as null.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from airflow_provider_creatio.testing.emulator.odata_filter import (
    Call,
    Compare,
    Literal,
    Logical,
    Node,
    Not,
    Path,
    parse_filter,
)
from airflow_provider_creatio.testing.emulator.odata_limits import (
    QueryLimits,
    check_expand,
    check_filter_nodes,
    check_orderby,
    split_top_level,
)
from airflow_provider_creatio.testing.emulator.store import (
    Column,
    EntitySchema,
    EntityStore,
    Record,
    Row,
    SortKey,
    UnknownColumnError,
    field_name,
)
from airflow_provider_creatio.testing.emulator.values import ZERO_GUID, datetime_ticks, normalize_datetime

Getter = Callable[[Row], Any]
KNOWN_OPTIONS = ("$filter", "$orderby", "$top", "$skip", "$count", "$select", "$expand", "$format")


class QueryError(ValueError):
    """A query option the emulator refuses (answered 400 in the OData error shape)."""


@dataclass(frozen=True)
class Operand:
    """A compiled ``$filter`` sub-expression: its type, the EDM name used in messages, how to evaluate it, and
    how many nodes Microsoft's ``FilterQueryValidator`` counts in it (see :meth:`_FilterCompiler.compare`)."""

    type: str  # string, guid, number, bool, datetime, null
    edm: str
    get: Getter
    nodes: int


_KIND_TYPES: dict[str, tuple[str, str]] = {
    "text": ("string", "Edm.String"),
    "guid": ("guid", "Edm.Guid"),
    "lookup": ("guid", "Edm.Guid"),
    "int": ("number", "Edm.Int32"),
    "float": ("number", "Edm.Decimal"),
    "bool": ("bool", "Edm.Boolean"),
    "datetime": ("datetime", "Edm.DateTimeOffset"),
}
_OPERATOR_NAMES = {
    "eq": "Equal",
    "ne": "NotEqual",
    "gt": "GreaterThan",
    "ge": "GreaterThanOrEqual",
    "lt": "LessThan",
    "le": "LessThanOrEqual",
}
_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
_STRING_FUNCTIONS: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda text, part: part in text,
    "startswith": str.startswith,
    "endswith": str.endswith,
}
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")


def _comparable(store: EntityStore, kind: str, value: Any) -> Any:
    """A stored value in the form comparisons and sorts use; None for null and the "empty" values. GUIDs take the
    database's order (``store.guid_key``)."""
    if value is None:
        return None
    if kind == "text":
        return value.casefold()
    if kind in ("guid", "lookup"):
        return None if value == ZERO_GUID else store.guid_key(value)
    if kind == "datetime":
        return datetime_ticks(value) or None
    return value


# -- navigation paths -----------------------------------------------------------------------------------------


def resolve_path(store: EntityStore, entity: str, segments: tuple[str, ...]) -> tuple[Column, Getter]:
    """The column a path such as ``Account/Name`` ends at, and a getter of its stored value from an ``entity`` row.

    Lookups are followed by their navigation name; ``<Lookup>/Id`` (or the bare ``<Lookup>``) reads the flat
    ``<Lookup>Id`` key without a join. The flat name itself (``StatusId``) is not a path: UnknownColumnError.
    """
    full = "/".join(segments)
    links: list[tuple[str, str]] = []  # (target entity, key holding its id), one per join
    current = store.schema(entity)
    column, key = Column("guid"), ""
    for index, name in enumerate(segments):
        found = current.columns.get(name)
        if found is None:
            raise UnknownColumnError(entity, full)
        column, key = found, field_name(name, found)
        rest = segments[index + 1 :]
        if not rest:
            break
        target = column.ref
        if target is None:
            raise UnknownColumnError(entity, full)
        if rest == ("Id",):
            column = Column("guid")
            break
        if not store.has_entity(target):
            raise UnknownColumnError(entity, full)
        links.append((target, key))
        current = store.schema(target)
    return column, _follow(store, links, key)


def _follow(store: EntityStore, links: list[tuple[str, str]], key: str) -> Getter:
    if not links:
        return lambda row: row.get(key)

    def get(row: Row) -> Any:
        target: Row | None = row
        for entity, link in links:
            target = store.peek(entity, target.get(link)) if target is not None else None
        return None if target is None else target.get(key)

    return get


# -- $filter --------------------------------------------------------------------------------------------------


class CompiledFilter(NamedTuple):
    where: Callable[[Row], bool]
    ids: frozenset[str] | None  # the only Ids that can match, when the filter says so


def compile_filter(
    store: EntityStore, entity: str, text: str, limits: QueryLimits | None = None
) -> CompiledFilter:
    """A predicate over ``entity`` rows for a ``$filter`` value. Binding errors (types, columns) come before the
    node count, as in Microsoft's stack, where validation runs on the bound tree."""
    tree = parse_filter(text)
    operand = _FilterCompiler(store, entity).compile(tree)
    if operand.type != "bool":
        raise QueryError("The $filter expression must evaluate to a single boolean value.")
    check_filter_nodes(operand.nodes, limits or QueryLimits())
    get = operand.get
    return CompiledFilter(lambda row: get(row) is True, id_candidates(tree))


def id_candidates(node: Node) -> frozenset[str] | None:
    """The Ids a filter limits its matches to (``Id eq a or Id eq b``, possibly and-ed with more), or None."""
    if isinstance(node, Compare) and node.op == "eq":
        for side, other in ((node.left, node.right), (node.right, node.left)):
            if side == Path(("Id",)) and isinstance(other, Literal) and other.kind == "guid":
                return frozenset({other.value})
        return None
    if not isinstance(node, Logical):
        return None
    left, right = id_candidates(node.left), id_candidates(node.right)
    if node.op == "or":
        return None if left is None or right is None else left | right
    if left is None or right is None:
        return left if right is None else right
    return left & right


class _FilterCompiler:
    def __init__(self, store: EntityStore, entity: str) -> None:
        self.store = store
        self.entity = entity

    def compile(self, node: Node) -> Operand:
        if isinstance(node, Literal):
            return self.literal(node)
        if isinstance(node, Path):
            return self.path(node)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Not):
            inner = self.boolean(node.operand, "not")
            get = inner.get
            return Operand("bool", "Edm.Boolean", lambda row: not get(row), 1 + inner.nodes)
        return self.logical(node)

    def literal(self, node: Literal) -> Operand:
        value = node.value
        edm = {"string": "Edm.String", "guid": "Edm.Guid", "bool": "Edm.Boolean", "null": "null"}.get(
            node.kind
        )
        if node.kind == "string":
            value = value.casefold()
        elif node.kind == "guid":
            value = self.store.guid_key(value)
        elif node.kind == "number":
            edm = "Edm.Double" if isinstance(value, float) else "Edm.Int32"
        elif node.kind == "datetime":
            edm, value = "Edm.DateTimeOffset", self.ticks(value)
        return Operand(node.kind, edm or "", lambda _row: value, 1)

    @staticmethod
    def ticks(text: str) -> int | None:
        try:
            return datetime_ticks(normalize_datetime(text)) or None
        except ValueError:
            raise QueryError(f"The date-time literal '{text}' is not valid.") from None

    def path(self, node: Path) -> Operand:
        column, raw = resolve_path(self.store, self.entity, node.segments)
        kind = column.kind
        type_, edm = _KIND_TYPES[kind]
        store = self.store
        # A property access node per segment (the last one a property, the others navigations), and the range
        # variable ($it) the first one starts from.
        return Operand(type_, edm, lambda row: _comparable(store, kind, raw(row)), len(node.segments) + 1)

    def compare(self, node: Compare) -> Operand:
        left, right = self.compile(node.left), self.compile(node.right)
        if left.type != right.type and "null" not in (left.type, right.type):
            raise QueryError(
                "A binary operator with incompatible types was detected. Found operand types "
                f"'{left.edm}' and '{right.edm}' for operator kind '{_OPERATOR_NAMES[node.op]}'."
            )
        if left.type == "guid" and node.op in _ORDERINGS and not self.store.guid_ordering:
            raise QueryError(
                "A binary operator with incompatible types was detected. Found operand types "
                f"'{left.edm}' and '{right.edm}' for operator kind '{_OPERATOR_NAMES[node.op]}'."
            )
        lget, rget = left.get, right.get
        nodes = 1 + left.nodes + right.nodes + _conversions(left, right)
        if node.op in ("eq", "ne"):
            equal = node.op == "eq"
            return Operand("bool", "Edm.Boolean", lambda row: (lget(row) == rget(row)) is equal, nodes)
        ordering = _ORDERINGS[node.op]

        def ordered(row: Row) -> bool:
            a, b = lget(row), rget(row)
            return a is not None and b is not None and ordering(a, b)

        return Operand("bool", "Edm.Boolean", ordered, nodes)

    def call(self, node: Call) -> Operand:
        function = _STRING_FUNCTIONS.get(node.name)
        if function is None:
            raise QueryError(f"An unknown function with name '{node.name}' was found.")
        args = [self.compile(arg) for arg in node.args]
        if len(args) != 2 or any(arg.type not in ("string", "null") for arg in args):
            raise QueryError(
                f"No function signature for the function with name '{node.name}' matches the specified arguments."
            )
        text, part = args[0].get, args[1].get

        def matches(row: Row) -> bool:
            a, b = text(row), part(row)
            return a is not None and b is not None and function(a, b)

        return Operand("bool", "Edm.Boolean", matches, 1 + sum(arg.nodes for arg in args))

    def logical(self, node: Logical) -> Operand:
        lhs, rhs = self.boolean(node.left, node.op), self.boolean(node.right, node.op)
        left, right, nodes = lhs.get, rhs.get, 1 + lhs.nodes + rhs.nodes
        if node.op == "and":
            return Operand("bool", "Edm.Boolean", lambda row: left(row) is True and right(row) is True, nodes)
        return Operand("bool", "Edm.Boolean", lambda row: left(row) is True or right(row) is True, nodes)

    def boolean(self, node: Node, op: str) -> Operand:
        operand = self.compile(node)
        if operand.type != "bool":
            raise QueryError(f"The operand of '{op}' must be a boolean expression, not '{operand.edm}'.")
        return operand


def _conversions(left: Operand, right: Operand) -> int:
    """The convert nodes Microsoft's binder puts into a comparison (each counts as a node): one around a ``null``
    compared with a typed operand (an untyped constant is always converted), and one where two numbers of
    different EDM types meet (an Int32 literal against an Edm.Decimal column); none where the types are equal."""
    if (left.type == "null") != (right.type == "null"):
        return 1
    return int(left.type == right.type == "number" and left.edm != right.edm)


# -- $orderby, $select, $expand ----------------------------------------------------------------------------------


def compile_orderby(store: EntityStore, entity: str, text: str) -> list[SortKey]:
    """``(key, descending)`` pairs for ``Name asc, Account/Name desc``; nulls sort first, as in SQL Server."""
    keys: list[SortKey] = []
    for item in text.split(","):
        words = item.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1] not in ("asc", "desc")):
            raise QueryError(f"Syntax error in $orderby '{text}'.")
        segments = tuple(words[0].split("/"))
        if not all(_IDENTIFIER.fullmatch(segment) for segment in segments):
            raise QueryError(f"Syntax error in $orderby '{text}'.")
        column, raw = resolve_path(store, entity, segments)
        keys.append((_sort_key(store, column.kind, raw), len(words) == 2 and words[1] == "desc"))
    return keys


def _sort_key(store: EntityStore, kind: str, raw: Getter) -> Getter:
    def key(row: Row) -> tuple[Any, ...]:
        value = _comparable(store, kind, raw(row))
        return (0,) if value is None else (1, value)

    return key


def parse_select(schema: EntitySchema, text: str) -> tuple[str, ...] | None:
    """The record keys to keep (None for all). Keys are flat names as records carry them (``StatusId``)."""
    names = tuple(name.strip() for name in text.split(","))
    if "*" in names:
        return None
    for name in names:
        if name not in schema.fields:
            raise UnknownColumnError(schema.name, name)
    return names


@dataclass(frozen=True)
class Expansion:
    """``$expand=Status``: put the record that ``StatusId`` names under ``Status``."""

    name: str
    key: str
    target: str | None  # None when the lookup's entity is not emulated: the expansion is then null
    select: tuple[str, ...] | None


_EXPAND_ITEM = re.compile(r"\s*([A-Za-z_]\w*)\s*(?:\((.*)\))?\s*")


def parse_expand(store: EntityStore, schema: EntitySchema, text: str) -> list[Expansion]:
    """One level of lookups, each optionally with ``($select=a,b)``."""
    expansions = []
    for item in split_top_level(text):
        match = _EXPAND_ITEM.fullmatch(item)
        if match is None:
            raise QueryError(f"Syntax error in $expand '{text}'.")
        name, options = match.groups()
        column = schema.columns.get(name)
        if column is None or column.kind != "lookup" or column.ref is None:
            raise UnknownColumnError(schema.name, name)
        target = column.ref if store.has_entity(column.ref) else None
        select = _expand_select(store, target, options) if options else None
        expansions.append(Expansion(name, field_name(name, column), target, select))
    return expansions


def _expand_select(store: EntityStore, target: str | None, options: str) -> tuple[str, ...] | None:
    name, _, value = options.partition("=")
    if name.strip() != "$select" or ";" in value:
        raise QueryError("Only $select is supported inside $expand.")
    return None if target is None else parse_select(store.schema(target), value)


def project(
    store: EntityStore, record: Record, select: tuple[str, ...] | None, expansions: list[Expansion]
) -> Record:
    """The record as the answer shows it: selected keys, then each expanded lookup (or null)."""
    shown = record if select is None else {key: record[key] for key in select}
    for expansion in expansions:
        target = store.get(expansion.target, record[expansion.key]) if expansion.target else None
        if target is not None and expansion.select is not None:
            target = {key: target[key] for key in expansion.select}
        shown[expansion.name] = target
    return shown


# -- all options of a list request ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    filter: CompiledFilter | None
    order: list[SortKey]
    skip: int
    top: int | None
    count: bool
    select: tuple[str, ...] | None
    expand: list[Expansion]
    cache_key: tuple[str, str]  # the texts the filter and the order were compiled from


def parse_list_query(
    store: EntityStore, entity: str, params: Mapping[str, str], limits: QueryLimits | None = None
) -> ListQuery:
    for name in params:
        if name.startswith("$") and name not in KNOWN_OPTIONS:
            raise QueryError(f"The query parameter '{name}' is not supported.")
    limits = limits or QueryLimits()
    schema = store.schema(entity)
    filter_text, orderby = params.get("$filter", ""), params.get("$orderby", "")
    if orderby:
        check_orderby(orderby, limits)
    if params.get("$expand"):
        check_expand(params["$expand"], limits)
    return ListQuery(
        filter=compile_filter(store, entity, filter_text, limits) if filter_text else None,
        order=compile_orderby(store, entity, orderby) if orderby else [],
        skip=_non_negative(params, "$skip") or 0,
        top=_non_negative(params, "$top"),
        count=_boolean(params, "$count"),
        select=parse_select(schema, params["$select"]) if params.get("$select") else None,
        expand=parse_expand(store, schema, params["$expand"]) if params.get("$expand") else [],
        cache_key=(filter_text, orderby),
    )


def _non_negative(params: Mapping[str, str], name: str) -> int | None:
    text = params.get(name)
    if text is None:
        return None
    if not text.strip().isdigit():
        raise QueryError(
            f"Invalid value '{text}' for {name} query option found. "
            f"The {name} query option requires a non-negative integer value."
        )
    return int(text)


def _boolean(params: Mapping[str, str], name: str) -> bool:
    text = params.get(name, "false")
    if text not in ("true", "false"):
        raise QueryError(f"'{text}' is not a valid count option.")
    return text == "true"
