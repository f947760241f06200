"""Run Creatio processes with inputs and use their outputs downstream.

* Seed 004's example: user name and surname in, full name out (``UsrFullNameProcess``), then a downstream task
  that uses the full name.
* Seed 000's example: ``CustomProcess`` with one input and ``ResultParameterName`` set, whose output is an
  object list; the provider decodes the XML-wrapped JSON into a list of dicts.
* A process with two outputs (``UsrOrderTotalsProcess``), which goes through ``RunProcess`` and also pushes the
  process instance id to XCom (and the task's "Creatio process log" link).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import dag, task

from airflow_provider_creatio.operators.process import CreatioRunProcessOperator


@dag(
    dag_id="example_creatio_process_results",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["creatio", "example", "process"],
)
def example_creatio_process_results() -> None:
    full_name = CreatioRunProcessOperator(
        task_id="full_name",
        process_name="UsrFullNameProcess",
        parameters={"UserName": "Ada", "UserSurname": "Lovelace"},
        result_parameters="FullName",
    )
    contacts = CreatioRunProcessOperator(
        task_id="contact_list",
        process_name="CustomProcess",
        parameters={"processParam": 15},
        result_parameters="CustomProcessResult",
    )
    totals = CreatioRunProcessOperator(
        task_id="order_totals",
        process_name="UsrOrderTotalsProcess",
        parameters={"Quantity": 12, "UnitPrice": "{{ params.unit_price }}"},
        result_parameters=["Total", "IsLargeOrder"],
        params={"unit_price": 99.5},
    )

    @task
    def report(name: dict[str, Any], listed: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
        phones = {row["Name"]: row["Phone"] for row in listed["CustomProcessResult"]}
        return {
            "greeting": f"Hello, {name['FullName']}",
            "contacts_with_phones": len(phones),
            "order_total": order["Total"],
            "large_order": order["IsLargeOrder"],
        }

    report(full_name.output, contacts.output, totals.output)


example_creatio_process_results()
