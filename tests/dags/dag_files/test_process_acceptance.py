"""Process acceptance DAGs, run by tests/dags/test_process_dags.py with dag.test against the emulator."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import dag, task

from airflow_provider_creatio.operators.process import CreatioExecElementOperator, CreatioRunProcessOperator

DEFAULTS: dict[str, Any] = {"retries": 0}


@dag(dag_id="test_process_ok", schedule=None, start_date=datetime(2024, 1, 1), default_args=DEFAULTS)
def process_ok() -> None:
    CreatioRunProcessOperator(
        task_id="seed000_execute",
        process_name="CustomProcess",
        parameters={"processParam": 15},
        result_parameters="CustomProcessResult",
        method="execute",
    )
    CreatioRunProcessOperator(
        task_id="two_outputs",
        process_name="UsrOrderTotalsProcess",
        parameters={"Quantity": 20, "UnitPrice": 60},
        result_parameters=["Total", "IsLargeOrder"],
    )
    CreatioRunProcessOperator(
        task_id="fire_and_forget",
        process_name="UsrLongProcess",
        parameters={"DurationSeconds": 600},
    )
    CreatioRunProcessOperator(
        task_id="wait_poke",
        process_name="UsrLongProcess",
        parameters={"DurationSeconds": 1},
        wait_for_completion=True,
        deferrable=False,
        poll_interval=0.2,
    )
    CreatioRunProcessOperator(
        task_id="wait_deferrable",
        process_name="UsrLongProcess",
        parameters={"DurationSeconds": 1},
        wait_for_completion=True,
        deferrable=True,
        poll_interval=0.2,
    )
    approval = CreatioRunProcessOperator(
        task_id="start_approval",
        process_name="UsrApprovalProcess",
        parameters={"RequestName": "Budget 2025"},
        method="run",
    )

    @task
    def waiting_element(process_id: str) -> str:
        from airflow_provider_creatio.hooks.creatio import CreatioHook

        with CreatioHook() as hook:
            from airflow_provider_creatio.client import odata

            page = hook.call(
                odata.query_records(
                    "SysProcessElementLog", filter={"SysProcess/Id": process_id, "Name": "ApproveRequest"}
                )
            )
        return str(page.records[0]["Id"])

    element = waiting_element(approval.output["process_id"])
    first = CreatioExecElementOperator(task_id="exec_element", element_uid=element)
    again = CreatioExecElementOperator(task_id="exec_element_again", element_uid=element)
    first >> again


@dag(dag_id="test_process_failures", schedule=None, start_date=datetime(2024, 1, 1), default_args=DEFAULTS)
def process_failures() -> None:
    CreatioRunProcessOperator(
        task_id="failing",
        process_name="UsrFailingProcess",
        parameters={"ErrorText": "Budget line 7 is missing."},
        method="run",
    )
    CreatioRunProcessOperator(
        task_id="success_true_status_error",
        process_name="UsrPartialResultErrorProcess",
        result_parameters="PartialResult",
    )
    CreatioRunProcessOperator(
        task_id="lost_answer",
        process_name="UsrLongProcess",
        parameters={"DurationSeconds": 3},
        result_parameters="SleptSeconds",  # synchronous: the answer comes after 3 s, the read timeout is 0.5 s
        hook_params={"timeout": 0.5},
        retries=2,  # must not be used: the outcome is unknown
    )
    CreatioRunProcessOperator(
        task_id="timeout_cancels",
        process_name="UsrLongProcess",
        parameters={"DurationSeconds": 60},
        wait_for_completion=True,
        deferrable=False,
        poll_interval=0.2,
        timeout=0.5,
    )
    CreatioExecElementOperator(task_id="bad_element_uid", element_uid="not-a-guid")


process_ok()
process_failures()
