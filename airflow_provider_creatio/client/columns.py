"""Column checks against the site's schema: refuse a name the entity does not have before anything is sent, naming
the entity, the name and the closest real ones (``Contact has no column 'Emial'; did you mean 'Email'?``). No I/O.

Which names are legal where (the schema comes from :mod:`.schema`):

* **data** (a record body, and each record of a bulk write): the entity's columns, ``Id`` and the lookup Id columns
  (``AccountId``) included. A lookup's navigation name (``Account``) is not writable: its Id column is suggested.
* **select**, **orderby**: a column, a lookup, or a path through lookups (``Account/Name``); each step is checked
  on the entity the previous one leads to (when the document describes that entity).
* **filter** keys (a mapping filter; the operator suffix such as ``__contains`` is not part of the name): the same
  paths, except a lookup's flat Id column: Creatio refuses ``StatusId`` in ``$filter`` and wants ``Status/Id``.
  A string filter is the caller's own OData expression and is not checked.
* **expand**: lookups only, or paths of lookups (``Account/PrimaryContact``).

Creatio's own refusal of a name (``Column by path Emial not found in schema Contact.``, when the check was off)
gets the same suggestion from :func:`server_refusal_hint`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_creatio.client import odata
from airflow_provider_creatio.client.errors import CreatioUnknownColumnError, did_you_mean
from airflow_provider_creatio.client.odata import Columns
from airflow_provider_creatio.client.schema import EntitySchema, Lookup, ServiceSchema, closest

_PATH_NOT_FOUND = re.compile(r"Column by path (?P<path>[\w/]+) not found in schema (?P<entity>\w+)")


def check_data(entity: EntitySchema, names: Iterable[str], argument: str = "data") -> None:
    """Every name must be a column of ``entity`` (what a write body may hold)."""
    for name in names:
        if entity.column(name) is not None:
            continue
        lookup = entity.lookup(name)
        if lookup is not None and lookup.column:
            suggestions = [lookup.column]  # a write names the lookup's Id column, not the lookup
        else:
            suggestions = closest(name, entity.column_names)
        raise CreatioUnknownColumnError(entity.name, name, suggestions, argument=argument)


def check_path(
    schema: ServiceSchema, entity: EntitySchema, path: str, argument: str, *, lookups_only: bool = False
) -> None:
    """Each step of ``Account/Name`` must exist on the entity the step before leads to. A step past a lookup whose
    entity the document does not describe cannot be checked and is let through (Creatio will judge it)."""
    current: EntitySchema | None = entity
    steps = path.split("/")
    for index, step in enumerate(steps):
        if current is None:
            return
        lookup = current.lookup(step)
        last = index == len(steps) - 1
        if lookup is None and (lookups_only or not last or current.column(step) is None):
            what = "lookup" if lookups_only or not last else "column"
            known = current.lookup_names if what == "lookup" else current.lookup_names + current.column_names
            raise CreatioUnknownColumnError(
                current.name, step, closest(step, known), argument=argument, what=what
            )
        current = _target(schema, lookup)


def check_filter_key(schema: ServiceSchema, entity: EntitySchema, key: str) -> None:
    """A mapping filter's key (``Name``, ``Status/Id``, ``Email__contains``)."""
    path, _ = odata.split_filter_key(key)
    fk_of = next((lookup for lookup in entity.lookups if lookup.column == path), None)
    if fk_of is not None:  # Creatio: "Column by path StatusId not found"; a filter goes through the lookup
        raise CreatioUnknownColumnError(
            entity.name, path, [f"{fk_of.name}/Id"], argument="filter", what="column path"
        )
    check_path(schema, entity, path, "filter")


def check_query(
    schema: ServiceSchema,
    entity: EntitySchema,
    *,
    select: Columns = None,
    expand: Columns = None,
    orderby: Columns = None,
    filter: str | Mapping[str, Any] | None = None,
) -> None:
    """The names in a query's options (see the module docstring for what is legal where)."""
    for path in odata.listed_items(select, "select"):
        check_path(schema, entity, path, "select")
    for item in odata.listed_items(orderby, "orderby"):
        check_path(schema, entity, item.partition(" ")[0], "orderby")
    for path in odata.listed_items(expand, "expand"):
        check_path(schema, entity, path, "expand", lookups_only=True)
    if isinstance(filter, Mapping):
        for key in filter:
            check_filter_key(schema, entity, key)


def _target(schema: ServiceSchema, lookup: Lookup | None) -> EntitySchema | None:
    """The entity a lookup leads to, when the document describes it; None for a column or an unknown target."""
    if lookup is None or not schema.has_entity(lookup.target):
        return None
    return schema.entity(lookup.target)


def refused_column_path(server_message: str | None) -> bool:
    """Whether Creatio refused a request because a column path does not exist (no schema needed to tell)."""
    return _PATH_NOT_FOUND.search(server_message or "") is not None


def server_refusal_hint(schema: ServiceSchema, server_message: str | None) -> str | None:
    """``Did you mean 'Email'?``: what the column check would have suggested for the path Creatio says it could
    not find; None when the message names no such path, or there is nothing close to suggest."""
    found = _PATH_NOT_FOUND.search(server_message or "")
    if found is None or not schema.has_entity(found.group("entity")):
        return None
    try:
        check_filter_key(schema, schema.entity(found.group("entity")), found.group("path"))
    except CreatioUnknownColumnError as refusal:
        if refusal.suggestions:
            question = did_you_mean(refusal.suggestions)
            return question[0].upper() + question[1:]
    return None
