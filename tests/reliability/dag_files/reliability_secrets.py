"""The DAG of tests/reliability/test_secrets.py: every kind of Creatio work, and every kind of failure, through
real Airflow task logging. The test reads the task logs, rendered fields and XComs afterwards, looking for secrets.

Connections (set by the test): ``creatio_secrets`` (forms), ``creatio_secrets_oauth`` (OAuth), and two whose
password / client secret Creatio refuses. The emulator has scripted faults for Account (a 500) and Case (a 302
twice) reads, which only the tasks named after them make. Tasks run one after the other (``all_done``), so the
tasks that expire every session cannot disturb another task's session.

The two ``*_canary`` tasks log every cookie value and the bearer token their hook holds, ON PURPOSE, on lines
marked SECRET-CANARY: Airflow must mask them in the task log, which proves the provider registered each secret it
learned at run time with Airflow's masker.
"""

from __future__ import annotations

import logging
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.operators.entity import (
    CreatioBulkEntityOperator,
    CreatioCreateEntityOperator,
    CreatioDeleteEntityOperator,
    CreatioGetEntityOperator,
    CreatioQueryEntitiesOperator,
)
from airflow_provider_creatio.operators.process import CreatioRunProcessOperator

CANARY = "SECRET-CANARY"
FORMS = "creatio_secrets"
OAUTH = "creatio_secrets_oauth"
MISSING = "0badc0de-0000-4000-8000-000000000002"
log = logging.getLogger(__name__)


def _expire_every_session(hook: CreatioHook) -> None:
    """The emulator's admin endpoint: end every session and revoke every token now."""
    import requests

    requests.post(f"{hook.config.base_url}/__emulator__/expire-sessions", timeout=10).raise_for_status()


with DAG(
    "reliability_secrets",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args={"retries": 0, "creatio_conn_id": FORMS, "trigger_rule": "all_done"},
) as dag:
    create = CreatioCreateEntityOperator(
        task_id="create_contact", entity="Contact", data={"Name": "Secrets check {{ ds }}", "Email": "a@b.c"}
    )
    get = CreatioGetEntityOperator(
        task_id="get_contact", entity="Contact", record_id=create.output, select=["Id", "Name"]
    )
    query = CreatioQueryEntitiesOperator(
        task_id="query_contacts", entity="Contact", filter={"Name": "Secrets check {{ ds }}"}, select=["Id"]
    )
    bulk = CreatioBulkEntityOperator(
        task_id="bulk_update_with_a_missing_record",
        entity="Contact",
        operation="update",
        records=[{"Id": MISSING, "Name": "nobody"}],
        allow_partial=True,
    )

    run_process = CreatioRunProcessOperator(
        task_id="run_process",
        process_name="UsrFullNameProcess",
        parameters={"UserName": "Ann {{ ds }}", "UserSurname": "Lee"},
        result_parameters="FullName",
    )
    follow_process = CreatioRunProcessOperator(
        task_id="follow_process",
        process_name="UsrLongProcess",
        parameters={"DurationSeconds": 0.2},
        wait_for_completion=True,
        deferrable=False,
        poll_interval=0.2,
    )

    @task
    def relogin_and_canary() -> int:
        with CreatioHook(FORMS) as hook:
            hook.query_page("Contact", top=1)
            _expire_every_session(hook)
            hook.query_page("Contact", top=1)  # a new login: new cookies, a new BPMCSRF
            for cookie in hook.client._session.cookies:  # reaching in on purpose: see the module docstring
                if cookie.name != "UserName":
                    log.info("%s cookie %s=%s", CANARY, cookie.name, cookie.value)
            return hook.client.login_count

    @task
    def oauth_relogin_and_canary() -> int:
        with CreatioHook(OAUTH) as hook:
            hook.query_page("Contact", top=1)
            _expire_every_session(hook)
            hook.query_page("Contact", top=1)  # a new token
            log.info("%s %s", CANARY, hook.client._flows.auth.headers({})["Authorization"])
            return hook.client.login_count

    wrong_password = CreatioGetEntityOperator(
        task_id="wrong_password", creatio_conn_id="creatio_secrets_wrong", entity="Contact", record_id=MISSING
    )
    wrong_client_secret = CreatioQueryEntitiesOperator(
        task_id="wrong_client_secret", creatio_conn_id="creatio_secrets_oauth_wrong", entity="Contact", top=1
    )
    server_error = CreatioQueryEntitiesOperator(task_id="server_error", entity="Account", top=1)
    session_rejected_again = CreatioQueryEntitiesOperator(
        task_id="session_rejected_again", entity="Case", top=1
    )
    delete = CreatioDeleteEntityOperator(task_id="delete_contact", entity="Contact", record_id=create.output)

    (
        create
        >> get
        >> query
        >> bulk
        >> run_process
        >> follow_process
        >> relogin_and_canary()
        >> oauth_relogin_and_canary()
        >> wrong_password
        >> wrong_client_secret
        >> server_error
        >> session_rejected_again
        >> delete
    )
