"""A generic, thread-safe, in-memory entity store: the emulated Creatio database.

Records are plain dicts holding wire values (what OData writes): lower-case GUIDs, ISO 8601 UTC dates, and each
lookup column as its flat ``<Name>Id`` key. A lookup column is *defined* under its navigation name (``Status``,
referring to ``CaseStatus``) and *stored* as ``StatusId``; ``$filter`` and ``$orderby`` use the navigation path
(``Status/Id``), writes and records the flat name.

Every method takes the store's re-entrant lock, so calls from the server's thread, a test's thread and a process
engine's threads do not interleave. Hold ``store.lock`` yourself to make several calls atomic.
"""

from __future__ import annotations

import bisect
import random
import threading
import uuid
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from airflow_provider_creatio.testing.emulator.values import (
    DEFAULTS,
    GUID_ORDERS,
    KINDS,
    ZERO_GUID,
    coerce,
    normalize_guid,
    now_iso,
)

Row = Mapping[str, Any]
Record = dict[str, Any]
# The Supervisor's contact id in the WSO2 connector reference's sample response: the author of every record the emulator writes.
DEFAULT_USER_ID = "410006e1-ca4e-4502-a9ec-e54d922d2c00"


class StoreError(Exception):
    """Base of the store's errors; the message is the one the emulator puts on the wire."""


class UnknownEntityError(StoreError):
    def __init__(self, entity: str) -> None:
        super().__init__(f"Entity schema {entity} not found.")
        self.entity = entity


class UnknownColumnError(StoreError):
    def __init__(self, entity: str, path: str) -> None:
        super().__init__(f"Column by path {path} not found in schema {entity}.")
        self.entity, self.path = entity, path


class DuplicateIdError(StoreError):
    def __init__(self, entity: str, record_id: str) -> None:
        super().__init__(f"A record with Id '{record_id}' already exists.")
        self.entity, self.record_id = entity, record_id


class MissingReferenceError(StoreError):
    """A write whose lookup points at no record of the lookup's entity (a foreign key violation)."""

    def __init__(self, entity: str, column: str, target: str, target_id: str, *, update: bool) -> None:
        super().__init__(
            f"Column {column} of schema {entity} refers to no {target} record with Id '{target_id}'."
        )
        self.entity, self.column, self.target, self.target_id, self.update = (
            entity,
            column,
            target,
            target_id,
            update,
        )


class StillReferencedError(StoreError):
    """A delete of a record that a lookup of another record still points at (a foreign key violation)."""

    def __init__(self, entity: str, record_id: str, referrer: str, column: str) -> None:
        super().__init__(
            f"Record with Id '{record_id}' of schema {entity} is still referenced by {referrer}.{column}."
        )
        self.entity, self.record_id, self.referrer, self.column = entity, record_id, referrer, column


class RecordNotFoundError(StoreError):
    def __init__(self, entity: str, record_id: str) -> None:
        super().__init__(f"Record with Id '{record_id}' not found in schema {entity}.")
        self.entity, self.record_id = entity, record_id


class BadValueError(StoreError):
    def __init__(self, entity: str, column: str, reason: str) -> None:
        super().__init__(f"Invalid value for column {column} of schema {entity}: {reason}.")
        self.entity, self.column = entity, column


class SchemaError(StoreError):
    """An entity definition that cannot work (bad kind, lookup without target, name defined twice)."""


@dataclass(frozen=True)
class Column:
    """A column type. ``ref`` names the target entity of a lookup (it need not be defined: then only its Id is known)."""

    kind: str
    ref: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SchemaError(f"unknown column kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        if (self.kind == "lookup") != (self.ref is not None):
            raise SchemaError("a lookup column needs ref=<target entity>, and only a lookup has one")


SYSTEM_COLUMNS: dict[str, Column] = {
    "Id": Column("guid"),
    "CreatedOn": Column("datetime"),
    "CreatedBy": Column("lookup", "Contact"),
    "ModifiedOn": Column("datetime"),
    "ModifiedBy": Column("lookup", "Contact"),
}


def field_name(column: str, definition: Column) -> str:
    """The record key of a column: ``StatusId`` for the lookup ``Status``, the name itself otherwise."""
    return f"{column}Id" if definition.kind == "lookup" else column


@dataclass(frozen=True)
class EntitySchema:
    """One entity: its columns by schema name, and by record key (``fields``)."""

    name: str
    columns: Mapping[str, Column]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    derive: Callable[[Record, frozenset[str]], None] | None = None
    media: tuple[str, ...] = ()
    managed: frozenset[str] = frozenset()
    fields: Mapping[str, Column] = field(init=False)
    template: Mapping[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        fields = {field_name(name, column): column for name, column in self.columns.items()}
        template = {key: DEFAULTS[column.kind] for key, column in fields.items()}
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "template", template)


SortKey = tuple[Callable[[Row], Any], bool]
# (referring entity, record key of its lookup): how many of its records point at one target record
Referrers = Counter[tuple[str, str]]
QUERY_CACHE_SIZE = 16


class QueryResult(NamedTuple):
    rows: list[Record]
    total: int  # matching rows before paging (-1 from a range read, which stops early and cannot know)
    read: int  # rows a SQL database would read to answer: the server's cost


IndexKey = Callable[[Row], tuple[Any, ...]]


@dataclass(frozen=True)
class KeyRange:
    """A range of an index (``start`` to ``stop`` in its key order); None leaves that end open. ``start_open``:
    rows whose key equals ``start`` are outside (``gt``); ``stop_open`` likewise for ``stop`` (``lt``)."""

    start: tuple[Any, ...] | None = None
    start_open: bool = False
    stop: tuple[Any, ...] | None = None
    stop_open: bool = False


class EntityStore:
    def __init__(self, seed: int = 0, user_id: str = DEFAULT_USER_ID) -> None:
        self.lock = threading.RLock()
        self.user_id = user_id
        # The site's database, as far as queries show it: how GUIDs sort and compare, and whether $filter may
        # order-compare them at all (gt/ge/lt/le). Set from the settings at each reset.
        self.guid_key: Callable[[str], Any] = GUID_ORDERS["mssql"]
        self.guid_ordering = True
        self._random = random.Random(seed)
        self._schemas: dict[str, EntitySchema] = {}
        self._tables: dict[str, dict[str, Record]] = {}
        self._version = 0  # bumped by every change: cached query results older than it are stale
        self._query_cache: OrderedDict[tuple[str, Hashable], tuple[int, list[Row]]] = OrderedDict()
        # (entity, index name) -> (version, sorted keys, rows in that order): built on first use after a write
        self._indexes: dict[tuple[str, Hashable], tuple[int, list[tuple[Any, ...]], list[Row]]] = {}
        # (target entity, target id) -> who points at it: a delete must not leave a lookup dangling
        self._referrers: dict[tuple[str, str], Referrers] = {}
        # told (entity, id) of every deleted record: what lives beside the table (a file's bytes) goes with it
        self._delete_listeners: list[Callable[[str, str], None]] = []

    # -- schema ---------------------------------------------------------------------------------------------

    def define_entity(
        self,
        name: str,
        columns: Mapping[str, Column],
        *,
        defaults: Mapping[str, Any] | None = None,
        derive: Callable[[Record, frozenset[str]], None] | None = None,
        media: Iterable[str] = (),
        managed: Iterable[str] = (),
    ) -> None:
        """Define an entity. Id, CreatedOn/By and ModifiedOn/By are added when missing.

        ``defaults`` maps record keys to values used when an insert leaves them out; ``derive(record, given_keys)``
        may fill columns from others after that (Contact splits its Name); ``media`` names stream properties whose
        OData annotations appear in full records (Contact's ``ContactPhoto``); ``managed`` names record keys the
        server sets itself (a file's ``Size``), which OData writes may not send. The store itself writes them.
        """
        for column_name, column in columns.items():
            if column.kind == "lookup" and column_name.endswith("Id"):
                raise SchemaError(f"define lookup {column_name!r} by its navigation name, without 'Id'")
        merged = {"Id": SYSTEM_COLUMNS["Id"], **columns}
        merged.update({key: col for key, col in SYSTEM_COLUMNS.items() if key not in merged})
        schema = EntitySchema(name, merged, derive=derive, media=tuple(media), managed=frozenset(managed))
        try:
            stored_defaults = self._coerced(schema, defaults or {})
        except StoreError as exc:
            raise SchemaError(f"bad default: {exc}") from None
        schema = replace(schema, defaults=stored_defaults)
        with self.lock:
            if name in self._schemas:
                raise SchemaError(f"entity {name} is already defined")
            self._schemas[name] = schema
            self._tables[name] = {}
            self._changed()

    def has_entity(self, name: str) -> bool:
        return name in self._schemas

    def schema(self, name: str) -> EntitySchema:
        try:
            return self._schemas[name]
        except KeyError:
            raise UnknownEntityError(name) from None

    def entity_names(self) -> list[str]:
        with self.lock:
            return list(self._schemas)

    # -- records --------------------------------------------------------------------------------------------

    def new_id(self) -> str:
        """A random GUID from the store's seeded generator (reproducible for a given seed and call order)."""
        with self.lock:
            return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def insert(self, entity: str, record: Mapping[str, Any]) -> Record:
        """Add a record; returns the whole stored record. Id, timestamps, authors and type defaults are filled in."""
        schema = self.schema(entity)
        values = self._coerced(schema, record)
        given = frozenset(values)
        with self.lock:
            row: Record = {**schema.template, **schema.defaults, **values}
            if row["Id"] == ZERO_GUID:
                row["Id"] = self.new_id()
            table = self._tables[entity]
            if row["Id"] in table:
                raise DuplicateIdError(entity, row["Id"])
            self._check_references(schema, row["Id"], values, update=False)
            self._stamp(row, given, created=True)
            if schema.derive is not None:
                schema.derive(row, given)
            table[row["Id"]] = row
            self._count_references(schema, row, row, +1)
            self._changed()
            return dict(row)

    def get(self, entity: str, record_id: str) -> Record | None:
        row = self.peek(entity, record_id)
        return None if row is None else dict(row)

    def peek(self, entity: str, record_id: object) -> Row | None:
        """The stored record itself, not a copy: for read-only use inside query callbacks."""
        key = normalize_guid(record_id)
        table = self._table(entity)
        return None if key is None else table.get(key)

    def update(self, entity: str, record_id: str, changes: Mapping[str, Any]) -> Record:
        """Change some columns; returns the whole record. RecordNotFoundError if there is no such record."""
        schema = self.schema(entity)
        values = self._coerced(schema, changes)
        key = normalize_guid(record_id) or ""
        with self.lock:
            row = self._tables[entity].get(key)
            if row is None:
                raise RecordNotFoundError(entity, record_id)
            if values.pop("Id", key) != key:
                raise BadValueError(entity, "Id", "the Id of a record cannot change")
            self._check_references(schema, key, values, update=True)
            changed = frozenset(values) | {"ModifiedById"}
            self._count_references(schema, row, changed, -1)
            row.update(values)
            self._stamp(row, frozenset(values), created=False)
            self._count_references(schema, row, changed, +1)
            self._changed()
            return dict(row)

    def delete(self, entity: str, record_id: str) -> bool:
        """Remove a record; False if there is none. StillReferencedError if another record's lookup points at it."""
        key = normalize_guid(record_id) or ""
        with self.lock:
            table = self._table(entity)
            row = table.get(key)
            if row is None:
                return False
            schema = self._schemas[entity]
            self._count_references(schema, row, row, -1)  # its own lookups, self-references included
            referrers = +self._referrers.get((entity, key), Counter())
            if referrers:
                self._count_references(schema, row, row, +1)
                referrer, column = next(iter(referrers))
                raise StillReferencedError(entity, key, referrer, column)
            del table[key]
            self._referrers.pop((entity, key), None)
            self._changed()
            for listener in self._delete_listeners:
                listener(entity, key)
            return True

    def on_delete(self, listener: Callable[[str, str], None]) -> None:
        """Call ``listener(entity, record_id)`` after every delete, under the store's lock. Kept by ``clear``."""
        with self.lock:
            self._delete_listeners.append(listener)

    def rows(self, entity: str) -> list[Record]:
        """A snapshot of every record, in insertion order."""
        with self.lock:
            return [dict(row) for row in self._table(entity).values()]

    def count(self, entity: str) -> int:
        return len(self._table(entity))

    def query(
        self,
        entity: str,
        where: Callable[[Row], bool] | None = None,
        order: Sequence[SortKey] = (),
        skip: int = 0,
        top: int | None = None,
        *,
        ids: Collection[str] | None = None,
        cache_key: Hashable | None = None,
    ) -> QueryResult:
        """Filter, sort (stable; ``order`` is ``(key, descending)`` pairs, most significant first) and page.

        ``where`` and the keys see the stored rows themselves and may call ``peek`` (the lock is re-entrant).
        ``ids``, when given, limits the scan to those (lower-case) record ids: a filter such as
        ``Id eq a or Id eq b`` then costs a few lookups, not a scan. ``cache_key`` names the where/order pair: the
        sorted matches are kept until the next write to the store, so paging through a large table costs one
        filter and one sort, not one per page. Only the returned page is copied.
        """
        with self.lock:
            matching = self._sorted_matches(entity, where, order, ids, cache_key)
            end = None if top is None else skip + top
            page = [dict(row) for row in matching[skip:end]]
            return QueryResult(page, len(matching), self._rows_read(entity, where, ids, end))

    def query_range(
        self,
        entity: str,
        index: tuple[Hashable, IndexKey],
        bounds: KeyRange,
        where: Callable[[Row], bool] | None,
        top: int,
        *,
        backward: bool = False,
    ) -> QueryResult:
        """The first ``top`` rows of ``bounds`` in index order (from its end, ``backward``) that ``where``
        accepts, as a database's index range seek reads them: each row visited counts as read, and the walk stops
        at ``top`` matches or the range's other end. ``index`` is (its name, its key function); the key must be
        unique per row (end it with the Id)."""
        with self.lock:
            keys, rows = self._index(entity, *index)
            first = 0
            if bounds.start is not None:
                first = (bisect.bisect_right if bounds.start_open else bisect.bisect_left)(keys, bounds.start)
            end = len(keys)
            if bounds.stop is not None:
                end = (bisect.bisect_left if bounds.stop_open else bisect.bisect_right)(keys, bounds.stop)
            walk = range(end - 1, first - 1, -1) if backward else range(first, end)
            page: list[Record] = []
            read = 0
            for position in walk:
                if len(page) >= top:
                    break
                row = rows[position]
                read += 1
                if where is None or where(row):
                    page.append(dict(row))
            return QueryResult(page, -1, read)

    def clear(self, seed: int = 0) -> None:
        """Forget every entity and record, and restart the id generator from ``seed``."""
        with self.lock:
            self._schemas.clear()
            self._tables.clear()
            self._referrers.clear()
            self._query_cache.clear()
            self._indexes.clear()
            self._random.seed(seed)
            self._changed()

    # -- helpers --------------------------------------------------------------------------------------------

    def _table(self, entity: str) -> dict[str, Record]:
        try:
            return self._tables[entity]
        except KeyError:
            raise UnknownEntityError(entity) from None

    @staticmethod
    def _coerced(schema: EntitySchema, record: Mapping[str, Any]) -> Record:
        values: Record = {}
        for key, value in record.items():
            column = schema.fields.get(key)
            if column is None:
                raise UnknownColumnError(schema.name, key)
            try:
                values[key] = coerce(column.kind, value)
            except ValueError as exc:
                raise BadValueError(schema.name, key, str(exc)) from None
        return values

    def _check_references(self, schema: EntitySchema, record_id: str, values: Row, *, update: bool) -> None:
        """Every lookup the write sets must point at an existing record, when the lookup's entity is defined here
        (an undefined one, such as ``SysLanguage``, knows no records to check against). A record may point at
        itself."""
        for key, value in values.items():
            column = schema.fields[key]
            if column.ref is None or value == ZERO_GUID or column.ref not in self._tables:
                continue
            if column.ref == schema.name and value == record_id:
                continue
            if value not in self._tables[column.ref]:
                raise MissingReferenceError(schema.name, key, column.ref, value, update=update)

    def _count_references(self, schema: EntitySchema, row: Row, keys: Iterable[str], step: int) -> None:
        """Add (``step`` +1) or remove (-1) the row's lookups among ``keys`` in the index of referrers."""
        for key in keys:
            column = schema.fields.get(key)
            value = row.get(key)
            if column is None or column.ref is None or value == ZERO_GUID or not isinstance(value, str):
                continue
            referrers = self._referrers.setdefault((column.ref, value), Counter())
            referrers[(schema.name, key)] += step

    def _stamp(self, row: Record, given: frozenset[str], *, created: bool) -> None:
        now = now_iso()
        stamps = {"ModifiedOn": now, "ModifiedById": self.user_id}
        if created:
            stamps.update(CreatedOn=now, CreatedById=self.user_id)
        for key, value in stamps.items():
            if key not in given:
                row[key] = value

    def _sorted_matches(
        self,
        entity: str,
        where: Callable[[Row], bool] | None,
        order: Sequence[SortKey],
        ids: Collection[str] | None,
        cache_key: Hashable | None,
    ) -> list[Row]:
        key = (entity, cache_key)
        cached = self._query_cache.get(key) if cache_key is not None else None
        if cached is not None and cached[0] == self._version:
            self._query_cache.move_to_end(key)
            return cached[1]
        table = self._table(entity)
        rows: Iterable[Row] = table.values() if ids is None else [table[i] for i in sorted(ids) if i in table]
        matching = [row for row in rows if where(row)] if where is not None else list(rows)
        for descending, keys in reversed(_runs(order)):
            matching.sort(key=_composite(keys), reverse=descending)
        if cache_key is not None:
            self._query_cache[key] = (self._version, matching)
            while len(self._query_cache) > QUERY_CACHE_SIZE:
                self._query_cache.popitem(last=False)
        return matching

    def _changed(self) -> None:
        self._version += 1

    def _rows_read(
        self, entity: str, where: Callable[[Row], bool] | None, ids: Collection[str] | None, end: int | None
    ) -> int:
        """What a database reads for a query without a usable range: a key lookup per Id it names; the first
        ``skip + top`` rows when nothing filters (an index or a heap read in order, as ``$skip`` costs);
        otherwise every row of the table (a scan)."""
        size = len(self._table(entity))
        if ids is not None:
            return len(ids)
        if where is None and end is not None:
            return min(end, size)
        return size

    def _index(self, entity: str, name: Hashable, key: IndexKey) -> tuple[list[tuple[Any, ...]], list[Row]]:
        cached = self._indexes.get((entity, name))
        if cached is not None and cached[0] == self._version:
            return cached[1], cached[2]
        rows: list[Row] = sorted(self._table(entity).values(), key=key)
        keys = [key(row) for row in rows]
        self._indexes[(entity, name)] = (self._version, keys, rows)
        return keys, rows


def _runs(order: Sequence[SortKey]) -> list[tuple[bool, list[Callable[[Row], Any]]]]:
    """Adjacent keys with the same direction, grouped: each group is sorted in one pass."""
    runs: list[tuple[bool, list[Callable[[Row], Any]]]] = []
    for key, descending in order:
        if runs and runs[-1][0] == descending:
            runs[-1][1].append(key)
        else:
            runs.append((descending, [key]))
    return runs


def _composite(keys: list[Callable[[Row], Any]]) -> Callable[[Row], Any]:
    if len(keys) == 1:
        return keys[0]
    return lambda row: tuple(key(row) for key in keys)
