"""Case lifecycle: open a case, wait (deferred) until support resolves it, run the follow-up process, note it on
the account.

1. ``open_case`` creates the case for the customer (the client chooses its Id, so a retry never opens two;
   Creatio gives it its number).
2. ``acknowledge`` logs an activity on the case ("we received your request").
3. ``wait_until_resolved`` is a deferrable ``CreatioEntitySensor``: it checks the case once, and if it is still
   open, hands the wait to the triggerer (no worker slot is held while support works on it), which looks every
   5 s. It succeeds when the status is Resolved or Closed, fails at once if the case is Canceled or deleted, and
   returns the case record.
4. ``follow_up`` runs Creatio's ``UsrCaseFollowUpProcess`` for the case, which creates a follow-up activity.
5. ``update_account`` writes a note about the resolved case on the customer's account.

``support_agent`` stands in for the person who resolves the case in Creatio's UI: it works on the case for the
``agent_work_seconds`` param (default 60 s), then resolves it. Where the wait happens depends on how the DAG runs:

* In a deployment (scheduler, workers, triggerer), the agent and ``acknowledge`` run side by side after
  ``open_case``. 60 s is longer than it takes to start ``acknowledge`` and then the sensor on a worker, even on a
  busy machine, so the sensor's first look finds the case open and the sensor defers: the wait runs in the
  triggerer. With a much shorter ``agent_work_seconds`` the case may already be resolved at the first look, and
  the sensor then succeeds without deferring.
* ``airflow dags test`` and ``dag.test()`` run one task at a time, and ``acknowledge`` sits before the wait, so
  the agent has always finished when the sensor first looks: the sensor succeeds at once and never defers. Pass
  ``{"agent_work_seconds": 1}`` as the run's conf there to skip the minute of waiting.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Param, dag, task

from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.operators.entity import CreatioCreateEntityOperator, CreatioUpdateEntityOperator
from airflow_provider_creatio.operators.process import CreatioRunProcessOperator
from airflow_provider_creatio.sensors.entity import CreatioEntitySensor

# Creatio's standard CaseStatus ids.
RESOLVED = "ae7f411e-f46b-1410-009b-0050ba5d6c38"
CLOSED = "3e7f420c-f46b-1410-fc9a-0050ba5d6c38"
CANCELED = "6e5f4218-f46b-1410-fe9a-0050ba5d6c38"
# The customer of seed 003's sample case.
ACCOUNT_ID = "ff7e089f-1fe9-4ca9-bc30-2d76ad39d178"
CONTACT_ID = "00b34750-2feb-4545-b233-153502326f3c"
# Longer than starting acknowledge and then the sensor on a busy worker, so that a deployed run defers; the
# triggerer then looks often enough that the run ends a few seconds after the agent.
AGENT_WORK_SECONDS = 60
LOOK_EVERY_SECONDS = 5


@dag(
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["creatio", "example", "entities", "processes"],
    doc_md=__doc__,
    params={
        "agent_work_seconds": Param(
            AGENT_WORK_SECONDS,
            type="number",
            minimum=0,
            description="Seconds the support agent works on the case before resolving it.",
        )
    },
)
def example_creatio_case_lifecycle() -> None:
    open_case = CreatioCreateEntityOperator(
        task_id="open_case",
        entity="Case",
        data={
            "Subject": "Consultation on functionality",
            "Symptoms": "Comparison of different DBMS in accordance with the customer's needs",
            "AccountId": ACCOUNT_ID,
            "ContactId": CONTACT_ID,
        },
    )

    acknowledge = CreatioCreateEntityOperator(
        task_id="acknowledge",
        entity="Activity",
        data={
            "Title": "We received your request",
            "CaseId": open_case.output,
            "ContactId": CONTACT_ID,
            "AccountId": ACCOUNT_ID,
        },
    )

    @task
    def support_agent(case_id: str, **context: Any) -> None:
        """The person on the support desk: looks into the case for a while, then resolves it."""
        time.sleep(float(context["params"]["agent_work_seconds"]))
        with CreatioHook() as hook:
            hook.update_record(
                "Case", case_id, {"StatusId": RESOLVED, "Notes": "Explained the DBMS comparison."}
            )

    wait_until_resolved = CreatioEntitySensor(
        task_id="wait_until_resolved",
        entity="Case",
        record_id=open_case.output,
        success_values={"Status/Id": [RESOLVED, CLOSED]},
        failure_values={"Status/Id": CANCELED},
        deferrable=True,
        poke_interval=LOOK_EVERY_SECONDS,
        timeout=timedelta(days=3).total_seconds(),
    )

    follow_up = CreatioRunProcessOperator(
        task_id="follow_up",
        process_name="UsrCaseFollowUpProcess",
        parameters={"CaseId": open_case.output},
        result_parameters=["FollowUpCreated", "ActivityId"],
    )

    @task
    def account_note(case: dict[str, Any], follow_up_result: dict[str, Any]) -> dict[str, str]:
        activity = follow_up_result.get("ActivityId") or "none"
        number = case.get("Number") or case["Id"]  # Creatio numbers new cases itself; the emulator does not
        return {"Notes": f"Case {number} ({case['Subject']}) resolved; follow-up activity {activity}."}

    update_account = CreatioUpdateEntityOperator(
        task_id="update_account",
        entity="Account",
        record_id="{{ ti.xcom_pull(task_ids='wait_until_resolved')['AccountId'] }}",
        data=account_note(wait_until_resolved.output, follow_up.output),
    )

    support_agent(open_case.output)
    acknowledge >> wait_until_resolved >> follow_up >> update_account


example_creatio_case_lifecycle()
