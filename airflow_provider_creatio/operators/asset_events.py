"""What a Creatio task wrote, as events on Airflow assets, and the facts of its run that lineage reads later.

The asset of an entity (``creatio://{host}/{Entity}``, see :mod:`airflow_provider_creatio.assets`) is known only
when the task runs: the site comes from the connection and the entity is templated. Once a task has written, it
records an event on that asset, if Airflow knows the asset (a DAG mentions it: a schedule, an inlet, an outlet):
it looks the asset up by URI (``Asset.ref(uri=...)``), puts the event's extra on it and adds it to its outlets,
which Airflow reads when the task succeeds. An asset no DAG mentions gets no event and is not created: Airflow
3.3.2 creates such an asset (or links it to an ``AssetAlias``) on its first event without guarding against two
tasks doing so at once, and the loser of that race fails although its work is done
(docs/guides/lineage.md). A reader emits nothing: reading changes nothing.

OpenLineage facets are built by :mod:`airflow_provider_creatio.openlineage`, imported only when the OpenLineage
provider asks for them. Importing this module is cheap (DAG parse).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from airflow_provider_creatio.assets import entity_uri

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import Context
    from airflow_provider_creatio.client.schema import EntitySchema
    from airflow_provider_creatio.hooks.creatio import CreatioHook


class AssetEventsMixin:
    """Remembers the site and the schemas a run read, and records the asset events of what it wrote."""

    creatio_conn_id: str
    outlets: list[Any]
    _site_url: str | None = None
    _read_schemas: dict[str, EntitySchema] | None = None

    if TYPE_CHECKING:
        hook: CreatioHook
        log: Any

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

    def emit_written(self, context: Context, entity: str, extra: dict[str, Any]) -> None:
        """The asset event of ``entity`` on this site (see :meth:`emit_asset`)."""
        self.emit_asset(context, entity_uri(self.site_url(), entity), extra)

    def emit_asset(self, context: Context, uri: str, extra: dict[str, Any]) -> bool:
        """Record an event with ``extra`` on the asset with this URI, if Airflow knows it; whether it did.

        Nothing is emitted outside Airflow's task runner (``execute`` called with a context of one's own, which
        has no ``outlet_events``), nor for an asset no DAG mentions. An outlet the user declared with this URI
        gets the extra, and no second event."""
        from airflow_provider_creatio._compat import AirflowRuntimeError, Asset

        outlet_events = context.get("outlet_events")
        if outlet_events is None:
            return False
        declared = next((o for o in self.outlets if isinstance(o, Asset) and o.uri == uri), None)
        if declared is not None:  # Airflow knows it (this task mentions it): nothing to look up
            outlet_events[declared].extra.update(extra)
            self.log.info("Asset event: %s %s", uri, extra)
            return True
        ref = Asset.ref(uri=uri)
        try:
            # Looked up through the api-server: the active asset with this URI. For an asset no DAG mentions,
            # Airflow's supervisor logs "Asset not found" at error level: the Task SDK (3.3.2) has no lookup
            # that does not, and no other silent way to learn whether an asset exists.
            event = outlet_events[ref]
        except AirflowRuntimeError as err:
            if getattr(err.error.error, "value", None) != "ASSET_NOT_FOUND":
                raise
            self.log.info("No asset event: no DAG mentions %s, so Airflow has no such asset", uri)
            return False
        event.extra.update(extra)
        if not any(getattr(outlet, "uri", None) == uri for outlet in self.outlets):
            self.outlets.append(ref)
        self.log.info("Asset event: %s %s", uri, extra)
        return True
