"""What a Creatio task reads and writes, for Airflow's assets and for OpenLineage.

The site comes from the connection and the entity is templated, so the asset (``creatio://{host}/{Entity}``,
see :mod:`airflow_provider_creatio.assets`) is known only when the task runs, while Airflow wants a task's outlets
when it parses the DAG. So a task declares an :class:`AssetAlias` at parse time (``creatio:{conn_id}:{entity}``:
an outlet for a writer, an inlet for a reader, next to any the user gave) and, once it has written, adds the
concrete asset to the alias's outlet events; Airflow then records an event on that asset, which runs the DAGs
scheduled on it. A reader emits nothing: reading changes nothing.

OpenLineage facets are built by :mod:`airflow_provider_creatio.lineage`, imported only when the OpenLineage
provider asks for them. Importing this module is cheap (DAG parse).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_creatio.assets import entity_alias, entity_uri

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import AssetAlias, Context
    from airflow_provider_creatio.client.schema import EntitySchema
    from airflow_provider_creatio.hooks.creatio import CreatioHook

# The actions of a record outcome that leave the record as the task asked (client.bulk.RecordOutcome).
WRITTEN_ACTIONS = frozenset({"created", "updated", "deleted", "existed"})
ANY_ENTITY = "*"  # the alias part of an entity known only at run time (an XComArg)


def parse_time_names(value: object) -> list[str]:
    """The entity names (or templates) an argument holds before rendering: one alias each."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        if "{{" in value:
            return [value]
        return [name.strip() for name in value.split(",") if name.strip()]
    if isinstance(value, Sequence):
        return [item if isinstance(item, str) else ANY_ENTITY for item in value]
    return [ANY_ENTITY]


def rendered_names(value: object, argument: str) -> list[str]:
    """The entity names an argument holds once rendered: a list, or text (``"Contact,Account"`` or a JSON list)."""
    import json

    from airflow_provider_creatio.client.validation import check_entity_name

    if isinstance(value, str) and value.strip().startswith("["):
        value = json.loads(value)
    names = parse_time_names(value)
    return [check_entity_name(name, argument) for name in names]


def pair_with_aliases(
    value: object, aliases: Sequence[AssetAlias], argument: str
) -> list[tuple[AssetAlias, str]]:
    """Each rendered entity name with the alias declared for it: a list pairs item by item (an item may render to
    several names), a template's one alias takes every name it rendered to."""
    items = list(value) if isinstance(value, (list, tuple)) else [value]
    if aliases and len(items) == len(aliases):
        return [
            (alias, name)
            for alias, item in zip(aliases, items, strict=True)
            for name in rendered_names(item, argument)
        ]
    names = rendered_names(value, argument)
    if len(names) == len(aliases):
        return list(zip(aliases, names, strict=True))
    return [(aliases[0], name) for name in names] if aliases else []


def storage_uri(path: object) -> str:
    """An object storage location as an asset URI: without the connection id (``s3://conn@bucket``) and without
    a trailing slash; a local path becomes ``file://``."""
    from urllib.parse import urlsplit, urlunsplit

    text = str(path).strip().rstrip("/")
    parts = urlsplit(text)
    if not parts.scheme:
        return f"file://{text}"
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


class CreatioLineageMixin:
    """Declares aliases at parse time, remembers the site and the schemas a run read, emits asset events."""

    creatio_conn_id: str
    inlets: list[Any]
    outlets: list[Any]
    _site_url: str | None = None
    _read_schemas: dict[str, EntitySchema] | None = None

    if TYPE_CHECKING:
        hook: CreatioHook

    def declare_entities(self, names: Iterable[str], *, written: bool) -> list[AssetAlias]:
        """One alias per name, added to the outlets (``written``) or inlets, after those the user gave."""
        aliases = [entity_alias(self.creatio_conn_id, name) for name in names]
        declared = self.outlets if written else self.inlets
        declared.extend(alias for alias in aliases if alias not in declared)
        return aliases

    def declare_files(self, path: object) -> AssetAlias:
        """The alias of files the task writes at ``path`` (templated): ``creatio-files:{path}``."""
        from airflow_provider_creatio._compat import AssetAlias

        alias = AssetAlias(name=f"creatio-files:{str(path).strip()}")
        if alias not in self.outlets:
            self.outlets.append(alias)
        return alias

    def keep_run_facts(self, entities: Iterable[str] = ()) -> None:
        """Before the hook closes: the site's URL, and the schemas of ``entities`` if the task read them anyway
        (a column check, a CSV or Parquet file): lineage never costs a request to Creatio."""
        hook = self.__dict__.get("hook")
        if hook is None or "config" not in hook.__dict__:
            return
        self._site_url = hook.config.base_url
        if "service_schema" not in hook.__dict__:
            return
        schemas = {}
        for entity in entities:
            if hook.service_schema.has_entity(entity):
                schemas[entity] = hook.service_schema.entity(entity)
        self._read_schemas = schemas

    def site_url(self) -> str:
        """The site's URL, from the connection (no request to Creatio)."""
        if self._site_url is None:
            self._site_url = self.hook.config.base_url
        return self._site_url

    def read_schema(self, entity: str) -> EntitySchema | None:
        return (self._read_schemas or {}).get(entity)

    def emit_written(
        self, context: Context, alias: AssetAlias, entity: str, extra: dict[str, Any] | None = None
    ) -> str:
        """Add the asset of ``entity`` on this site to ``alias``'s outlet events; its URI. Outside Airflow's task
        runner (``execute`` called with a context of one's own, which has no ``outlet_events``) nothing is emitted."""
        return self.emit_asset(context, alias, entity_uri(self.site_url(), entity), extra)

    @staticmethod
    def emit_asset(context: Context, alias: AssetAlias, uri: str, extra: dict[str, Any] | None = None) -> str:
        from airflow_provider_creatio._compat import Asset

        asset = Asset(uri=uri)
        outlet_events = context.get("outlet_events")
        if outlet_events is not None:
            outlet_events[alias].add(asset, extra=extra or {})
        return str(asset.uri)
