"""``$metadata``: the OData 4 CSDL document (XML) that describes the store's entities, as Creatio serves it.

Generated from the store's own entity definitions, in the shape of Creatio's document (see
docs/creatio-notes/odata-metadata.md): one ``Schema`` in the namespace ``Terrasoft.Configuration.OData``, an
``EntityType`` per entity with ``Key``/``PropertyRef`` ``Id``, a ``Property`` per column (a lookup ``Account`` is the
``Edm.Guid`` property ``AccountId`` plus a ``NavigationProperty Account`` whose ``ReferentialConstraint`` ties
``AccountId`` to the target's ``Id``), and an ``EntityContainer`` with one ``EntitySet`` per entity. A lookup whose
entity the emulator does not define (``SysLanguage``) points at a key-only type that has no entity set.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from airflow_provider_creatio.testing.emulator.store import Column, EntitySchema, EntityStore, field_name

NAMESPACE = "Terrasoft.Configuration.OData"
CONTAINER = "Container"
EDM_TYPES: dict[str, str] = {
    "guid": "Edm.Guid",
    "lookup": "Edm.Guid",
    "text": "Edm.String",
    "int": "Edm.Int32",
    "float": "Edm.Decimal",
    "bool": "Edm.Boolean",
    "datetime": "Edm.DateTimeOffset",
}
# Kinds the store never holds as null (an empty lookup is the zero GUID). Text is stored as "" but declared
# nullable, as .NET declares a string; a date may be null (SysProcessLog.CompleteDate while a process runs).
_NOT_NULL_KINDS = frozenset({"guid", "lookup", "int", "float", "bool"})


def csdl_document(store: EntityStore) -> str:
    with store.lock:
        schemas = [store.schema(name) for name in store.entity_names()]
    defined = {schema.name for schema in schemas}
    stubs = sorted({column.ref for schema in schemas for column in _lookups(schema)} - defined)
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
        "<edmx:DataServices>",
        f'<Schema Namespace="{NAMESPACE}" xmlns="http://docs.oasis-open.org/odata/ns/edm">',
    ]
    for schema in schemas:
        lines += _entity_type(schema)
    for name in stubs:
        lines += [f"<EntityType Name={quoteattr(name)}>", *_key(), _property("Id", Column("guid")), "</EntityType>"]
    lines.append(f'<EntityContainer Name="{CONTAINER}">')
    for schema in schemas:
        lines += _entity_set(schema, defined)
    lines += ["</EntityContainer>", "</Schema>", "</edmx:DataServices>", "</edmx:Edmx>"]
    return "\n".join(lines)


def _lookups(schema: EntitySchema) -> list[Column]:
    return [column for column in schema.columns.values() if column.ref is not None]


def _key() -> list[str]:
    return ["<Key>", '<PropertyRef Name="Id" />', "</Key>"]


def _property(name: str, column: Column) -> str:
    nullable = ' Nullable="false"' if column.kind in _NOT_NULL_KINDS else ""
    return f"<Property Name={quoteattr(name)} Type={quoteattr(EDM_TYPES[column.kind])}{nullable} />"


def _entity_type(schema: EntitySchema) -> list[str]:
    lines = [f"<EntityType Name={quoteattr(schema.name)}>", *_key()]
    lines += [_property(key, column) for key, column in schema.fields.items()]
    lines += [f"<Property Name={quoteattr(media)} Type=\"Edm.Stream\" />" for media in schema.media]
    for name, column in schema.columns.items():
        if column.ref is None:
            continue
        lines += [
            f"<NavigationProperty Name={quoteattr(name)} Type={quoteattr(f'{NAMESPACE}.{column.ref}')}>",
            f"<ReferentialConstraint Property={quoteattr(field_name(name, column))} ReferencedProperty=\"Id\" />",
            "</NavigationProperty>",
        ]
    lines.append("</EntityType>")
    return lines


def _entity_set(schema: EntitySchema, defined: set[str]) -> list[str]:
    qualified = quoteattr(f"{NAMESPACE}.{schema.name}")
    bindings = [
        f"<NavigationPropertyBinding Path={quoteattr(name)} Target={quoteattr(column.ref)} />"
        for name, column in schema.columns.items()
        if column.ref is not None and column.ref in defined
    ]
    if not bindings:
        return [f"<EntitySet Name={quoteattr(schema.name)} EntityType={qualified} />"]
    return [f"<EntitySet Name={quoteattr(schema.name)} EntityType={qualified}>", *bindings, "</EntitySet>"]
