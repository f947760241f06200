"""What a record file is (:class:`FileFormat`) and what each of its columns holds (:class:`ValueKind`): read from
the entity's schema, or inferred from the values when a file fixes its types from its first rows (Parquet)."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_creatio.client.errors import CreatioFileError

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import ObjectStoragePath
    from airflow_provider_creatio.client.schema import EntitySchema


class FileFormat(str, enum.Enum):
    JSONL = "jsonl"
    CSV = "csv"
    PARQUET = "parquet"

    @property
    def suffix(self) -> str:
        return f".{self.value}"

    @classmethod
    def resolve(
        cls, value: FileFormat | str | None, path: ObjectStoragePath | str | None = None
    ) -> FileFormat:
        """The format named by ``value`` (``jsonl`` or ``ndjson``, ``csv``, ``parquet`` or ``pq``), or, when it
        is None, the one the path's suffix names (a ``.json`` file is one JSON document, not JSON Lines)."""
        if value is None:
            name = str(path or "").rsplit("/", 1)[-1]
            value = name.rsplit(".", 1)[-1] if "." in name else ""
            if not value:
                raise CreatioFileError(
                    f"cannot tell the format of {path}: give format (jsonl, csv or parquet)"
                )
        text = str(value.value if isinstance(value, FileFormat) else value).strip().lower().lstrip(".")
        text = {"ndjson": "jsonl", "pq": "parquet"}.get(text, text)
        try:
            return cls(text)
        except ValueError:
            raise CreatioFileError(f"unknown file format {value!r}: use jsonl, csv or parquet") from None


class ValueKind(str, enum.Enum):
    """What a column holds, as far as a file needs to know to give its values back unchanged."""

    TEXT = "text"  # Edm.String: never null in Creatio; an empty CSV cell is ""
    GUID = "guid"  # Edm.Guid, kept as text
    DATETIME = "datetime"  # Edm.DateTimeOffset, Edm.Date...: kept as Creatio's ISO 8601 text
    BOOLEAN = "boolean"
    INTEGER = "integer"  # Edm.Int16/32/64, Edm.Byte
    NUMBER = "number"  # Edm.Decimal, Edm.Double, Edm.Single
    JSON = "json"  # a nested object or list (an expanded lookup)


_EDM_KINDS = {
    "Edm.String": ValueKind.TEXT,
    "Edm.Guid": ValueKind.GUID,
    "Edm.Boolean": ValueKind.BOOLEAN,
    "Edm.Byte": ValueKind.INTEGER,
    "Edm.SByte": ValueKind.INTEGER,
    "Edm.Int16": ValueKind.INTEGER,
    "Edm.Int32": ValueKind.INTEGER,
    "Edm.Int64": ValueKind.INTEGER,
    "Edm.Decimal": ValueKind.NUMBER,
    "Edm.Double": ValueKind.NUMBER,
    "Edm.Single": ValueKind.NUMBER,
}


def kinds_for_entity(schema: EntitySchema, columns: Iterable[str] | None = None) -> dict[str, ValueKind]:
    """The kind of each of ``columns`` (every column of the entity when None), in that order: lookups (expanded
    navigation properties) are JSON, dates and other EDM types text that is null when empty."""
    names = list(schema.column_names if columns is None else columns)
    kinds: dict[str, ValueKind] = {}
    for name in names:
        column = schema.column(name)
        if column is not None:
            kinds[name] = _EDM_KINDS.get(column.edm_type, ValueKind.DATETIME)
        elif schema.lookup(name) is not None:
            kinds[name] = ValueKind.JSON
        else:
            kinds[name] = ValueKind.TEXT
    return kinds


def infer_kinds(rows: Sequence[Mapping[str, Any]]) -> dict[str, ValueKind]:
    """Each column's kind from its values: the first row's columns, then any new ones; all-null columns are text."""
    seen: dict[str, set[ValueKind]] = {}
    for row in rows:
        for name, value in row.items():
            kinds = seen.setdefault(str(name), set())
            if value is not None:
                kinds.add(_kind_of(value))
    return {name: _widest(kinds) for name, kinds in seen.items()}


def _kind_of(value: Any) -> ValueKind:
    if isinstance(value, bool):
        return ValueKind.BOOLEAN
    if isinstance(value, int):
        return ValueKind.INTEGER
    if isinstance(value, float):
        return ValueKind.NUMBER
    if isinstance(value, str):
        return ValueKind.TEXT
    return ValueKind.JSON


def _widest(kinds: set[ValueKind]) -> ValueKind:
    if not kinds:
        return ValueKind.TEXT
    if len(kinds) == 1:
        return next(iter(kinds))
    if kinds == {ValueKind.INTEGER, ValueKind.NUMBER}:
        return ValueKind.NUMBER
    return ValueKind.JSON  # mixed values: kept exactly as JSON text
