"""OpenLineage datasets and facets of Creatio tasks (docs/guides/lineage.md).

Imported only by the operators' ``get_openlineage_facets_on_*`` methods, which the OpenLineage provider calls when
it is installed and configured: without it, nothing here is ever imported.

* An entity is a dataset in the namespace ``creatio://{host}[/{base path}]`` named after the entity
  (:func:`airflow_provider_creatio.assets.site_namespace`), with a ``schema`` facet (columns and EDM types) when
  the task read the entity's schema anyway, and an ``outputStatistics`` facet (rows) when it wrote records.
* Object storage follows OpenLineage's naming for files: ``s3://bucket`` and the key, ``file`` and the path.
* A process run carries the run facet ``creatio_process``: process name, instance id, status and log URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import attrs
from airflow.providers.common.compat.openlineage.facet import (
    InputDataset,
    OutputDataset,
    OutputStatisticsOutputDatasetFacet,
    RunFacet,
    SchemaDatasetFacet,
    SchemaDatasetFacetFields,
)
from airflow.providers.openlineage.extractors import OperatorLineage

from airflow_provider_creatio.assets import entity_uri, site_namespace, storage_uri

if TYPE_CHECKING:
    from airflow_provider_creatio.client.schema import EntitySchema

PROCESS_FACET = "creatio_process"


@attrs.define
class CreatioProcessRunFacet(RunFacet):  # type: ignore[misc]
    """The Creatio business process a task ran: its schema name, instance id, last status and log URL."""

    # camelCase: the names on the wire, as OpenLineage's own facets have them
    processName: str
    processId: str | None = None
    status: str | None = None
    logUrl: str | None = None

    @staticmethod
    def _get_schema() -> str:
        return "urn:airflow-provider-creatio:facets:CreatioProcessRunFacet:1-0-0"


def entity_dataset(
    site_url: str,
    entity: str,
    *,
    output: bool,
    schema: EntitySchema | None = None,
    rows: int | None = None,
) -> InputDataset | OutputDataset:
    """The dataset of ``entity`` on the site at ``site_url``."""
    namespace, name = site_namespace(entity_uri(site_url, entity))
    facets: dict[str, Any] = {}
    if schema is not None:
        facets["schema"] = schema_facet(schema)
    if not output:
        return InputDataset(namespace=namespace, name=name, facets=facets)
    output_facets = (
        {} if rows is None else {"outputStatistics": OutputStatisticsOutputDatasetFacet(rowCount=rows)}
    )
    return OutputDataset(namespace=namespace, name=name, facets=facets, outputFacets=output_facets)


def schema_facet(schema: EntitySchema) -> SchemaDatasetFacet:
    """The entity's columns, in the schema's order, typed as ``$metadata`` types them (``Edm.String``...)."""
    return SchemaDatasetFacet(
        fields=[SchemaDatasetFacetFields(name=column.name, type=column.edm_type) for column in schema.columns]
    )


def storage_dataset(
    location: str, *, output: bool, rows: int | None = None, files: int | None = None
) -> InputDataset | OutputDataset:
    """The dataset of a file or folder in object storage, named as OpenLineage names files."""
    namespace, name = storage_namespace(location)
    if not output:
        return InputDataset(namespace=namespace, name=name)
    statistics = OutputStatisticsOutputDatasetFacet(rowCount=rows, fileCount=files)
    return OutputDataset(namespace=namespace, name=name, outputFacets={"outputStatistics": statistics})


def storage_namespace(location: str) -> tuple[str, str]:
    """``("s3://bucket", "key")`` for an object, ``("file", "/path")`` for a local file; never a connection id."""
    parts = urlsplit(storage_uri(location))
    if parts.scheme == "file":
        return "file", parts.path
    return f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/") or "/"


def process_lineage(
    site_url: str,
    entities_read: list[str],
    entities_written: list[str],
    run: CreatioProcessRunFacet,
) -> OperatorLineage:
    """A process run's lineage: the entities it reads and writes, and its ``creatio_process`` run facet."""
    inputs = [entity_dataset(site_url, entity, output=False) for entity in entities_read]
    outputs = [entity_dataset(site_url, entity, output=True) for entity in entities_written]
    return operator_lineage(inputs, outputs, {PROCESS_FACET: run})


def operator_lineage(
    inputs: list[InputDataset | OutputDataset],
    outputs: list[InputDataset | OutputDataset],
    run_facets: dict[str, RunFacet] | None = None,
) -> OperatorLineage:
    return OperatorLineage(inputs=inputs, outputs=outputs, run_facets=run_facets or {})
