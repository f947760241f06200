"""Every record operation of seed 003's connector, as Airflow tasks, with the seed's sample payloads.

The connector offers contactCreate/Get/Update/Delete, caseCreate/Get/Update/Delete and
accountCreate/Get/Update/Delete. Here each one is a task of the same name, made with the generic entity
operators (one family for every Creatio object, no class per entity):

* ``<entity>Create`` -> ``CreatioCreateEntityOperator``: returns the new Id, chosen by the client so that a retried
  create never makes a second record.
* ``<entity>Get`` -> ``CreatioGetEntityOperator`` with ``select``: a missing Id fails with a not-found error.
* ``<entity>Update`` -> ``CreatioUpsertEntityOperator``: the connector's update creates the record when the Id is
  unknown, which is an upsert (``CreatioUpdateEntityOperator`` is the strict PATCH).
* ``<entity>Delete`` -> ``CreatioDeleteEntityOperator``.

The Id flows from each create to the next tasks through XCom (``create.output``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import dag, task

from airflow_provider_creatio.operators.entity import (
    CreatioCreateEntityOperator,
    CreatioDeleteEntityOperator,
    CreatioGetEntityOperator,
    CreatioUpsertEntityOperator,
)

# Sample requests of seed 003, unchanged.
CONTACT = {
    "Name": "API Test",
    "AccountId": "e6574af1-3e92-4099-958e-e798f52ee016",
    "JobTitle": "Marketing manager",
    "BirthDate": "0001-01-01T00:00:00Z",
    "Phone": "",
    "MobilePhone": "+1 213 566 34 22",
    "Email": "test@gmail",
    "Completeness": 30,
    "Age": 19,
}
CASE = {
    "Number": "SR00000040",
    "RegisteredOn": "2021-07-16T11:00:00Z",
    "Subject": "Consultation on functionality",
    "Symptoms": "Comparison of different DBMS in accordance with the customer's needs",
    "Notes": "",
    "AccountId": "ff7e089f-1fe9-4ca9-bc30-2d76ad39d178",
    "ContactId": "00b34750-2feb-4545-b233-153502326f3c",
    "SolutionRemains": 0.0,
}
ACCOUNT = {
    "Name": "API 1",
    "ProcessListeners": 0,
    "Phone": "+1 206 480 3801",
    "AdditionalPhone": "+1 206 480 4495",
    "Fax": "",
    "Web": "www.infocom-global.com",
    "Address": "48 Pilgrim Street",
    "Notes": "",
}

SAMPLES: dict[str, tuple[str, dict[str, Any], list[str]]] = {
    # seed operation prefix: (entity, sample request, columns read back by the Get task)
    "contact": ("Contact", CONTACT, ["Id", "Name", "JobTitle", "MobilePhone", "Email", "AccountId"]),
    "case": ("Case", CASE, ["Id", "Number", "Subject", "AccountId", "ContactId", "StatusId"]),
    "account": ("Account", ACCOUNT, ["Id", "Name", "Phone", "Web", "Address"]),
}


@dag(
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["creatio", "example", "entities"],
    doc_md=__doc__,
)
def example_creatio_entities() -> None:
    @task
    def check(record: dict[str, Any], sample: dict[str, Any]) -> dict[str, Any]:
        """The record read back carries what the create sent (a downstream task using the Get's XCom)."""
        differing = {column for column in record if column in sample and record[column] != sample[column]}
        if differing:
            raise ValueError(f"the stored record differs from the sample in {sorted(differing)}")
        return {"Id": record["Id"], "checked": sorted(set(record) & set(sample))}

    for prefix, (entity, sample, columns) in SAMPLES.items():
        create = CreatioCreateEntityOperator(task_id=f"{prefix}Create", entity=entity, data=sample)
        get = CreatioGetEntityOperator(
            task_id=f"{prefix}Get", entity=entity, record_id=create.output, select=columns
        )
        update = CreatioUpsertEntityOperator(
            task_id=f"{prefix}Update", entity=entity, record_id=create.output, data=sample
        )
        delete = CreatioDeleteEntityOperator(
            task_id=f"{prefix}Delete", entity=entity, record_id=create.output
        )
        checked = check.override(task_id=f"{prefix}Check")(get.output, sample)
        create >> get >> checked >> update >> delete


example_creatio_entities()
