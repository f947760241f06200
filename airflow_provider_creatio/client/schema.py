"""Creatio's schema from OData 4 ``$metadata``: the call, a streaming CSDL reader, and the compact result. No I/O.

``GET {odata}/$metadata`` answers the whole data model as CSDL XML: on a real site every object of the
configuration, several MB. :class:`MetadataReader` is fed the bytes in chunks (an
:class:`xml.etree.ElementTree.XMLPullParser`) and drops each ``EntityType`` and ``EntityContainer`` element as soon
as it has read it, so the parsed tree never grows past one element; what it keeps is only the facts the provider
uses: per entity its key, its columns (EDM type, nullability) and its lookups (navigation property, target entity,
the column holding the target's Id).

How Creatio writes them (see docs/creatio-notes/metadata-csdl-shape.md)::

    <EntityType Name="Contact" BaseType="Terrasoft.Configuration.OData.BaseEntity">
      <Property Name="AccountId" Type="Edm.Guid" />
      <NavigationProperty Name="Account" Type="Terrasoft.Configuration.OData.Account">
        <ReferentialConstraint Property="AccountId" ReferencedProperty="Id" />
      </NavigationProperty>
    </EntityType>
    <EntitySet Name="Contact" EntityType="Terrasoft.Configuration.OData.Contact" />

Properties, lookups and the key are inherited along ``BaseType``. URLs name entity *sets*
(``/odata/Contact``); a set names its type, so the schema of ``Contact`` is the type its set names. A document
without an ``EntityContainer`` is read as one set per type, named like the type.
"""

from __future__ import annotations

import difflib
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from airflow_provider_creatio.client.errors import CreatioUnknownEntityError
from airflow_provider_creatio.client.http import ApiRequest, ApiResponse, Call, Service
from airflow_provider_creatio.client.responses import unreadable

_EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
_CHUNK = 64 * 1024  # bytes fed to the parser at a time
_SUGGESTIONS = 3  # close matches named in an error


@dataclass(frozen=True)
class Column:
    """A structural property: ``Email`` (``Edm.String``), ``AccountId`` (``Edm.Guid``, the Id of a lookup)."""

    name: str
    edm_type: str
    nullable: bool


@dataclass(frozen=True)
class Lookup:
    """A navigation property to one record of ``target``, whose Id is kept in ``column`` (``AccountId``); the
    column is None when the document names no referential constraint for it."""

    name: str
    target: str
    column: str | None


@dataclass(frozen=True)
class EntitySchema:
    """What ``$metadata`` says about one entity (set): its key, columns and lookups, in document order, inherited
    ones first."""

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    lookups: tuple[Lookup, ...]

    def column(self, name: str) -> Column | None:
        return next((column for column in self.columns if column.name == name), None)

    def lookup(self, name: str) -> Lookup | None:
        return next((lookup for lookup in self.lookups if lookup.name == name), None)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def lookup_names(self) -> tuple[str, ...]:
        return tuple(lookup.name for lookup in self.lookups)


_Fact = TypeVar("_Fact", Column, Lookup)


@dataclass(frozen=True)
class _EntityType:
    """One ``EntityType`` as read, before ``BaseType`` is applied. Type names (the base, each lookup's target)
    are qualified (``Namespace.Name``)."""

    base: str | None
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    lookups: tuple[Lookup, ...]


class ServiceSchema:
    """Every entity of a site's ``$metadata``: what :meth:`entity` resolves on demand from the compact facts the
    reader kept (inheritance is applied when an entity is asked for, not for the thousands never asked)."""

    def __init__(self, types: Mapping[str, _EntityType], entity_sets: Mapping[str, str]) -> None:
        self._types = dict(types)
        self._sets = dict(entity_sets)
        self._set_of_type = {type_name: set_name for set_name, type_name in self._sets.items()}

    @property
    def entity_names(self) -> list[str]:
        """The entity sets, as URLs name them, sorted."""
        return sorted(self._sets)

    def has_entity(self, name: str) -> bool:
        return self._sets.get(name) in self._types

    def entity(self, name: str) -> EntitySchema:
        """The schema of entity set ``name``; :class:`CreatioUnknownEntityError` (with the closest names) when the
        site has no such entity."""
        type_name = self._sets.get(name)
        if not self.has_entity(name) or type_name is None:
            raise CreatioUnknownEntityError(name, closest(name, self._sets))
        chain = self._inheritance(type_name)
        key = next((entity.key for entity in chain if entity.key), ())
        columns = tuple(column for entity in reversed(chain) for column in entity.columns)
        lookups = tuple(
            self._to_entity_set(lookup) for entity in reversed(chain) for lookup in entity.lookups
        )
        return EntitySchema(name, key, columns, lookups)

    def _to_entity_set(self, lookup: Lookup) -> Lookup:
        """The lookup with its target named as URLs name it: the entity set of the target type (or the type's own
        name, for a type no set names)."""
        target = self._set_of_type.get(lookup.target, lookup.target.rpartition(".")[2])
        return Lookup(lookup.name, target, lookup.column)

    def _inheritance(self, type_name: str) -> list[_EntityType]:
        """The type, then its base, and so on (a base that is missing or loops ends the chain)."""
        chain: list[_EntityType] = []
        seen: set[str] = set()
        current: str | None = type_name
        while current is not None and current in self._types and current not in seen:
            seen.add(current)
            chain.append(self._types[current])
            current = self._types[current].base
        return chain


def closest(name: str, candidates: Iterable[str]) -> list[str]:
    """The candidates closest to ``name`` (case ignored), best first: what an error suggests for a misspelling."""
    by_folded: dict[str, str] = {}
    for candidate in candidates:
        by_folded.setdefault(candidate.casefold(), candidate)
    matches = difflib.get_close_matches(name.casefold(), list(by_folded), n=_SUGGESTIONS, cutoff=0.6)
    return [by_folded[match] for match in matches]


# --- the streaming reader -----------------------------------------------------------------------------------


class MetadataReader:
    """Reads CSDL XML fed in chunks, keeping only :class:`ServiceSchema`'s facts. Raises ``ET.ParseError`` for a
    document that is not well-formed XML.

    Expat (behind ElementTree) resolves no external entities and, from version 2.4.1, refuses exponential entity
    expansion, so a hostile document cannot make it read files or blow up memory."""

    def __init__(self) -> None:
        self._parser: ET.XMLPullParser[ET.Element] = ET.XMLPullParser(events=("start", "end"))
        self._open: list[ET.Element] = []  # the element path from the root to where the parser is
        self._namespace = ""  # of the Schema being read
        self._types: dict[str, _EntityType] = {}
        self._sets: dict[str, str] = {}
        # Thousands of types repeat the same few hundred columns and lookups (CreatedOn, OwnerId...): keep one of each.
        self._shared: dict[object, Any] = {}

    def feed(self, chunk: bytes) -> None:
        self._parser.feed(chunk)
        self._take_events()

    def close(self) -> ServiceSchema:
        self._parser.close()
        self._take_events()
        if not self._sets:  # no EntityContainer: each type is a set of its own name
            self._sets = {qualified.rpartition(".")[2]: qualified for qualified in self._types}
        return ServiceSchema(self._types, self._sets)

    def _take_events(self) -> None:
        for pair in self._parser.read_events():
            item = pair[-1]
            if not isinstance(item, ET.Element):
                continue  # only start and end events are asked for; this keeps the type checker sure of it
            if pair[0] == "start":
                self._open.append(item)
                if item.tag == f"{_EDM}Schema":
                    self._namespace = item.get("Namespace", "")
            else:
                self._open.pop()
                self._finish(item)

    def _finish(self, element: ET.Element) -> None:
        """Read an element that has ended, if the schema needs it; a child of a ``Schema`` (entity type, container,
        annotations, functions...) is then dropped from the tree, with everything under it."""
        if element.tag == f"{_EDM}EntityType":
            name = f"{self._namespace}.{element.get('Name', '')}"
            self._types[sys.intern(name)] = self._read_entity_type(element)
        elif element.tag == f"{_EDM}EntityContainer":
            for entity_set in element.iter(f"{_EDM}EntitySet"):
                self._sets[entity_set.get("Name", "")] = entity_set.get("EntityType", "")
        parent = self._open[-1] if self._open else None
        if parent is not None and parent.tag == f"{_EDM}Schema":
            parent.remove(element)

    def _read_entity_type(self, element: ET.Element) -> _EntityType:
        key = tuple(ref.get("Name", "") for ref in element.iterfind(f"{_EDM}Key/{_EDM}PropertyRef"))
        columns = tuple(
            self._share(
                Column(
                    prop.get("Name", ""),
                    prop.get("Type", ""),
                    prop.get("Nullable", "true") != "false",  # CSDL: Nullable defaults to true
                )
            )
            for prop in element.iterfind(f"{_EDM}Property")
        )
        lookups = tuple(
            self._share(Lookup(nav.get("Name", ""), nav.get("Type", ""), _foreign_key(nav)))
            for nav in element.iterfind(f"{_EDM}NavigationProperty")
            if not nav.get("Type", "").startswith(
                "Collection("
            )  # a collection is a detail, not a lookup column
        )
        return _EntityType(element.get("BaseType"), key, columns, lookups)

    def _share(self, fact: _Fact) -> _Fact:
        shared: _Fact = self._shared.setdefault(fact, fact)
        return shared


def _foreign_key(navigation: ET.Element) -> str | None:
    constraint = navigation.find(f"{_EDM}ReferentialConstraint")
    return None if constraint is None else constraint.get("Property", "")


def read_metadata(chunks: Iterable[bytes]) -> ServiceSchema:
    """A :class:`ServiceSchema` from CSDL XML given in chunks."""
    reader = MetadataReader()
    for chunk in chunks:
        reader.feed(chunk)
    return reader.close()


# --- the call -----------------------------------------------------------------------------------------------

OPERATION = "read $metadata"


def _chunks(content: bytes) -> Iterable[bytes]:
    view = memoryview(content)
    for start in range(0, len(view), _CHUNK):
        yield bytes(view[start : start + _CHUNK])


def parse_metadata(response: ApiResponse) -> ServiceSchema:
    """The schema in a ``$metadata`` answer; :class:`CreatioResponseError` for a body that is not CSDL XML."""
    if "xml" not in response.content_type:
        raise unreadable(
            response, f"Creatio answered {response.content_type!r} where XML was expected", OPERATION
        )
    try:
        return read_metadata(_chunks(response.content))
    except ET.ParseError as err:
        raise unreadable(response, f"Creatio answered invalid XML ({err})", OPERATION) from None


def metadata_call() -> Call[ServiceSchema]:
    """``GET {odata}/$metadata``."""
    request = ApiRequest(
        "GET", Service.ODATA, "$metadata", headers={"Accept": "application/xml"}, operation=OPERATION
    )
    return Call(request, parse_metadata)
