"""Case lifecycle: open a case, wait (deferred) until support resolves it, run the follow-up process, note it on
the account.

1. ``open_case`` creates the case for the customer (the client chooses its Id, so a retry never opens two;
   Creatio gives it its number).
2. ``acknowledge`` logs an activity on the case ("we received your request").
3. ``wait_until_resolved`` is a deferrable ``CreatioEntitySensor``: it checks the case once, and if it is still
   open, hands the wait to the triggerer (no worker slot is held while support works on it). It succeeds when the
   status is Resolved or Closed, fails at once if the case is Canceled or deleted, and returns the case record.
4. ``follow_up`` runs Creatio's ``UsrCaseFollowUpProcess`` for the case, which creates a follow-up activity.
5. ``update_account`` writes a note about the resolved case on the customer's account.

``support_agent`` stands in for the person who resolves the case in Creatio's UI; it runs beside the wait, as
that person would. ``airflow dags test`` runs one task at a time, and ``acknowledge`` sits before the wait so that
the agent always gets its turn first there; with a scheduler the agent and the wait run at the same time and the
sensor really waits in the triggerer.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import dag, task

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
AGENT_WORK_SECONDS = 1


@dag(
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["creatio", "example", "entities", "processes"],
    doc_md=__doc__,
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
    def support_agent(case_id: str) -> None:
        """The person on the support desk: looks into the case for a while, then resolves it."""
        time.sleep(AGENT_WORK_SECONDS)
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
        poke_interval=60,
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
