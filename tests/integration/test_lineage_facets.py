"""The OpenLineage facet builders and the operators' OpenLineage methods, without a run (no server involved).

They need the OpenLineage provider (the test extra), which make test-compat does not install: so they live here,
not in tests/unit.
"""

from __future__ import annotations

import json
import uuid

import pytest

from airflow_provider_creatio import openlineage
from airflow_provider_creatio._compat import Asset
from airflow_provider_creatio.assets import convert_asset_to_openlineage
from airflow_provider_creatio.client.schema import Column, EntitySchema
from airflow_provider_creatio.operators.entity import CreatioBulkEntityOperator, CreatioGetEntityOperator
from airflow_provider_creatio.operators.process import CreatioRunProcessOperator

SITE = "https://MySite.creatio.com"
SCHEMA = EntitySchema(
    name="Contact",
    key=("Id",),
    columns=(Column("Id", "Edm.Guid", False), Column("Name", "Edm.String", True)),
    lookups=(),
)


@pytest.fixture
def crm_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """A connection to a site no test reaches: the OpenLineage methods must not send a request."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_CRM",
        json.dumps(
            {"conn_type": "creatio", "host": "https://server:8443/creatio/0", "login": "u", "password": "p"}
        ),
    )


def test_an_entity_input_with_its_schema() -> None:
    dataset = openlineage.entity_dataset(SITE, "Contact", output=False, schema=SCHEMA)
    assert (dataset.namespace, dataset.name) == ("creatio://mysite.creatio.com", "Contact")
    fields = dataset.facets["schema"].fields
    assert [(field.name, field.type) for field in fields] == [("Id", "Edm.Guid"), ("Name", "Edm.String")]


def test_an_entity_output_with_its_row_count() -> None:
    dataset = openlineage.entity_dataset("https://server/creatio", "Case", output=True, rows=3)
    assert (dataset.namespace, dataset.name) == ("creatio://server/creatio", "Case")
    assert dataset.outputFacets["outputStatistics"].rowCount == 3
    assert dataset.facets == {}
    assert openlineage.entity_dataset(SITE, "Case", output=True).outputFacets == {}


@pytest.mark.parametrize(
    ("location", "namespace", "name"),
    [
        ("s3://aws_default@lake/contacts/part-00000.csv", "s3://lake", "contacts/part-00000.csv"),
        ("s3://lake", "s3://lake", "/"),
        ("gs://bucket/a/", "gs://bucket", "a"),
        ("file:///data/contacts", "file", "/data/contacts"),
        ("/data/contacts.jsonl", "file", "/data/contacts.jsonl"),
    ],
)
def test_object_storage_named_as_openlineage_names_files(location: str, namespace: str, name: str) -> None:
    assert openlineage.storage_namespace(location) == (namespace, name)


def test_files_written_carry_rows_and_files() -> None:
    dataset = openlineage.storage_dataset("s3://lake/contacts", output=True, rows=10, files=2)
    statistics = dataset.outputFacets["outputStatistics"]
    assert (statistics.rowCount, statistics.fileCount) == (10, 2)


def test_the_process_run_facet() -> None:
    process_id = str(uuid.uuid4())
    run = openlineage.CreatioProcessRunFacet(
        processName="UsrSync", processId=process_id, status="Completed", logUrl="https://x/log"
    )
    lineage = openlineage.process_lineage("https://x", ["Contact"], ["Account"], run)
    assert [d.name for d in lineage.inputs + lineage.outputs] == ["Contact", "Account"]
    (name, facet), *_ = lineage.run_facets.items()
    assert name == "creatio_process"
    assert (facet.processName, facet.processId, facet.status, facet.logUrl) == (
        "UsrSync",
        process_id,
        "Completed",
        "https://x/log",
    )
    assert facet._schemaURL.startswith("urn:airflow-provider-creatio:")


def test_the_asset_converter() -> None:
    dataset = convert_asset_to_openlineage(Asset("creatio://Server:8443/creatio/Contact"), None)
    assert (dataset.namespace, dataset.name) == ("creatio://server:8443/creatio", "Contact")


def test_operators_report_before_a_run_without_a_request(crm_connection: None) -> None:
    reader = CreatioGetEntityOperator(task_id="g", entity="Contact", record_id="x", creatio_conn_id="crm")
    start = reader.get_openlineage_facets_on_start()
    assert [(d.namespace, d.name) for d in start.inputs] == [("creatio://server:8443/creatio", "Contact")]
    assert start.outputs == []
    assert "client" not in reader.hook.__dict__  # the site's URL came from the connection alone

    bulk = CreatioBulkEntityOperator(
        task_id="b", entity="Case", operation="create", records=[], creatio_conn_id="crm"
    )
    bulk.rows_written = 0
    failed = bulk.get_openlineage_facets_on_complete(None)
    assert [(d.name, d.outputFacets["outputStatistics"].rowCount) for d in failed.outputs] == [("Case", 0)]

    process = CreatioRunProcessOperator(
        task_id="p",
        process_name="UsrSync",
        entities_read="Account",
        entities_written="Contact,Case",
        creatio_conn_id="crm",
    )
    start = process.get_openlineage_facets_on_start()
    assert [d.name for d in start.inputs] == ["Account"]
    assert [d.name for d in start.outputs] == ["Contact", "Case"]
    assert start.run_facets["creatio_process"].processName == "UsrSync"
    assert start.run_facets["creatio_process"].processId is None


def test_the_file_operators_name_the_file_object_and_the_storage(crm_connection: None) -> None:
    from airflow_provider_creatio.operators.files import CreatioUploadFileOperator
    from airflow_provider_creatio.transfers.creatio_files_to_object_storage import (
        CreatioFilesToObjectStorageOperator,
    )

    attach = CreatioUploadFileOperator(
        task_id="u", entity="Case", record_id="x", source="s3://in/a.pdf", creatio_conn_id="crm"
    )
    attach.files_read, attach.rows_written = ["s3://in/a.pdf"], 1
    done = attach.get_openlineage_facets_on_complete(None)
    assert [(d.namespace, d.name) for d in done.inputs] == [("s3://in", "a.pdf")]
    assert [d.name for d in done.outputs] == ["CaseFile"]

    backup = CreatioFilesToObjectStorageOperator(
        task_id="b", entity="Contact", polymorphic=True, path="s3://lake/files/", creatio_conn_id="crm"
    )
    backup.files_written = [("s3://lake/files", 3, 4)]
    done = backup.get_openlineage_facets_on_complete(None)
    assert [d.name for d in done.inputs] == ["SysFile"]
    assert [(d.namespace, d.name) for d in done.outputs] == [("s3://lake", "files")]
