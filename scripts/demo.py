"""The main job in one command (``make demo``): every example DAG in a real Airflow deployment.

Starts the Creatio emulator and prepares the site the examples expect, starts Airflow in ``.airflow-demo`` as
users run it (api-server, scheduler, dag-processor and triggerer as separate processes, LocalExecutor) with the
``creatio_default`` connection pointing at the emulator, triggers every example DAG through the REST API without
a logical date (as the UI and CLI do), except the escalation example, which a change in Creatio starts (the demo
creates a High-priority case, as a user would, once the DAG's watcher has polled), and prints a table per DAG and task: its state, whether it deferred (its
wait ran in the triggerer), how long it took, and what it returned. Exits non-zero if any DAG failed.

``--keep`` (``make demo KEEP=1``) leaves Airflow and the emulator running afterwards and prints the UI's URL and
login, until Ctrl-C. ``--auth oauth`` logs in with OAuth client credentials through the emulator's identity server;
``--net-core`` serves (and connects to) the .NET Core layout: ``make demo DEMO_ARGS="--auth oauth --net-core"``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from airflow_provider_creatio.testing.connection import emulator_connection_json
from airflow_provider_creatio.testing.deployment import AirflowDeployment, DeploymentError
from airflow_provider_creatio.testing.emulator import EmulatorServer, EmulatorSettings
from airflow_provider_creatio.testing.example_site import prepare_example_site

REPO = Path(__file__).resolve().parents[1]
HOME = REPO / ".airflow-demo"
DAGS = REPO / "example_dags"
RUN_LIMIT = 600.0  # seconds for all runs together; they take about 90 on a 2-core machine
ESCALATION_DAG = "example_creatio_case_escalation"  # scheduled on an asset that a Creatio watcher feeds


def short(value: object, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def returned(airflow: AirflowDeployment, dag_id: str, run_id: str, ti: dict[str, Any]) -> str:
    """The task's return value (its ``return_value`` XCom), shortened; empty when it returned nothing."""
    path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{ti['task_id']}/xcomEntries/return_value"
    if ti.get("map_index", -1) != -1:
        path += f"?map_index={ti['map_index']}"
    try:
        return short(airflow.api("GET", path)["value"])
    except DeploymentError:
        return ""  # no return value


def print_run(airflow: AirflowDeployment, dag_id: str, run_id: str, state: str) -> None:
    print(f"\n{'OK  ' if state == 'success' else 'FAIL'} {dag_id}: {state}")
    deferred = airflow.deferred_tasks(dag_id, run_id)
    print(f"     {'task':<28} {'state':<16} {'deferred':<9} {'seconds':>7}  returned")
    for ti in sorted(airflow.task_instances(dag_id, run_id), key=lambda ti: ti.get("start_date") or ""):
        name = ti["task_id"] if ti.get("map_index", -1) == -1 else f"{ti['task_id']}[{ti['map_index']}]"
        seconds = f"{ti['duration']:.1f}" if ti.get("duration") is not None else "-"
        flag = "yes" if name in deferred else "-"
        print(
            f"     {name:<28} {ti['state'] or '-':<16} {flag:<9} {seconds:>7}  {returned(airflow, dag_id, run_id, ti)}"
        )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/demo.py", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--auth", choices=["forms", "oauth"], default="forms")
    parser.add_argument("--net-core", action="store_true", help="the .NET Core layout")
    parser.add_argument(
        "--keep", action="store_true", help="leave Airflow and the emulator running until Ctrl-C"
    )
    return parser.parse_args()


def watcher_polls(creatio: EmulatorServer) -> int:
    """The escalation example's watcher's reads of High-priority cases so far."""
    return sum(
        1
        for request in creatio.requests
        if "/Case" in request.path
        and "Priority/Name eq 'High'" in "".join(parse_qs(request.query).get("$filter", []))
    )


def escalation_run(airflow: AirflowDeployment, creatio: EmulatorServer) -> str:
    """Create a High-priority case once the watcher has polled (its first poll takes the newest case as its
    start: only later changes count), and wait for the run that the change starts; its id."""
    from airflow_provider_creatio.testing.emulator.seed import CASE_PRIORITY_IDS

    airflow.wait_for("the case watcher's first poll", lambda: watcher_polls(creatio) >= 2, RUN_LIMIT)
    case = creatio.store.insert(
        "Case", {"Subject": "Production line down", "PriorityId": CASE_PRIORITY_IDS["High"]}
    )
    print(f"Created High-priority case {case['Id']} in Creatio; waiting for the run it starts.")
    path = f"/api/v2/dags/{ESCALATION_DAG}/dagRuns"
    airflow.wait_for("the escalation run", lambda: bool(airflow.api("GET", path)["dag_runs"]), RUN_LIMIT)
    return str(airflow.api("GET", path)["dag_runs"][0]["dag_run_id"])


def run_examples(airflow: AirflowDeployment, creatio: EmulatorServer) -> int:
    """Trigger every example DAG at once (the escalation example through a change in Creatio), wait for all,
    print the tables; how many failed."""
    dag_ids = airflow.dag_ids()
    airflow.wait_for_dags(dag_ids)
    runs = {dag_id: airflow.trigger(dag_id) for dag_id in dag_ids if dag_id != ESCALATION_DAG}
    print(f"Triggered {len(runs)} example DAGs through the REST API (no logical date).")
    if ESCALATION_DAG in dag_ids:
        runs[ESCALATION_DAG] = escalation_run(airflow, creatio)
    print(f"Waiting for {len(runs)} example DAG runs.")
    deadline = time.monotonic() + RUN_LIMIT
    states = {
        dag_id: airflow.wait_for_run(dag_id, run_id, deadline - time.monotonic())
        for dag_id, run_id in runs.items()
    }
    for dag_id, run_id in runs.items():
        print_run(airflow, dag_id, run_id, states[dag_id])
    failed = sum(state != "success" for state in states.values())
    print(
        f"\n{failed} of the {len(runs)} example DAGs failed."
        if failed
        else f"\nAll {len(runs)} example DAGs succeeded."
    )
    return failed


def main() -> int:
    args = parse_args()
    shutil.rmtree(HOME, ignore_errors=True)
    with EmulatorServer(EmulatorSettings(net_core=args.net_core)) as creatio:
        prepare_example_site(creatio.url, creatio.settings)
        layout = ".NET Core" if args.net_core else ".NET Framework"
        print(
            f"Creatio emulator on {creatio.url} ({layout}, {args.auth} auth; identity server {creatio.identity_url})"
        )
        env = {
            "AIRFLOW_CONN_CREATIO_DEFAULT": emulator_connection_json(creatio, args.auth),
            # Where example_creatio_contact_load writes its files: a folder every component reaches.
            "AIRFLOW_VAR_CREATIO_TRANSFER_FOLDER": str(HOME / "transfers"),
            # The scheduler turns asset events into runs only when it creates runs itself (the escalation
            # example); the scheduled examples then also run on their schedules, which the tables leave out.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "True",
        }
        print(f"Starting Airflow in {HOME} (api-server, scheduler, dag-processor, triggerer)...")
        with AirflowDeployment(HOME, DAGS, env=env) as airflow:
            failed = run_examples(airflow, creatio)
            print(f"Logs: {HOME / 'logs'}; component output: {HOME}/<component>.out")
            if args.keep:
                print(
                    f"\nAirflow UI: {airflow.api_url}  (user admin, password {airflow.password}). Ctrl-C stops it."
                )
                # Ctrl-C, or a SIGTERM, leaves the with-blocks, which stop every process they started.
                signal.signal(signal.SIGINT, signal.default_int_handler)
                signal.signal(signal.SIGTERM, signal.default_int_handler)
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    print("Stopping Airflow and the emulator.")
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
