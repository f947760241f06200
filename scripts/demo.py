"""The main job in one command (``make demo``).

Initialises a throw-away Airflow home, starts the Creatio emulator, points ``creatio_default`` at it, runs every
example DAG with ``airflow dags test``, prints a summary per DAG (state and key XCom values), stops the emulator,
and exits non-zero if any DAG failed.

``--auth oauth`` logs in with OAuth client credentials through the emulator's identity server instead of a user
name and password; ``--net-core`` serves (and connects to) the .NET Core layout. ``make demo DEMO_ARGS="--auth
oauth --net-core"`` passes them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOME = REPO / ".airflow-demo"
DAGS = REPO / "example_dags"
LOGS = HOME / "runs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def connection(site: str, identity: str, args: argparse.Namespace) -> str:
    """The ``creatio_default`` connection: the emulator's user, or its OAuth client (the CLI's defaults)."""
    from airflow_provider_creatio.testing.connection import connection_json, oauth_connection_json
    from airflow_provider_creatio.testing.emulator import EmulatorSettings

    emulator = EmulatorSettings()  # the CLI starts the emulator with these defaults
    if args.auth == "oauth":
        client = (emulator.oauth_client_id, emulator.oauth_client_secret)
        return oauth_connection_json(site, identity, *client, net_core=args.net_core)
    return connection_json(site, emulator.username, emulator.password, net_core=args.net_core)


def airflow_env(creatio_connection: str) -> dict[str, str]:
    env = os.environ.copy()
    env.update(
        AIRFLOW_HOME=str(HOME),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__TEST_CONNECTION="Enabled",
        AIRFLOW_CONN_CREATIO_DEFAULT=creatio_connection,
    )
    return env


def start_emulator(port: int, identity_port: int, net_core: bool) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "airflow_provider_creatio.testing.emulator", "--port", str(port)]
    command += ["--identity-port", str(identity_port)] + (["--net-core"] if net_core else [])
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/__emulator__/stats", timeout=1)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the Creatio emulator did not start within 30 s")


def run(cmd: list[str], env: dict[str, str], log: Path | None = None) -> int:
    if log is None:
        return subprocess.run(cmd, env=env, check=False, capture_output=True).returncode
    with log.open("wb") as out:
        return subprocess.run(cmd, env=env, check=False, stdout=out, stderr=subprocess.STDOUT).returncode


def dag_ids(env: dict[str, str]) -> list[str]:
    """The example DAG ids, read with a DagBag in a subprocess (Airflow's CLI mixes log lines into its output)."""
    code = (
        "import json;from airflow.dag_processing.dagbag import DagBag;"
        f"bag=DagBag(dag_folder={str(DAGS)!r});"
        "assert not bag.import_errors, bag.import_errors;"
        "print(json.dumps(sorted(bag.dag_ids)))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def summarize(env: dict[str, str], dag_id: str) -> tuple[str, dict[str, object]]:
    """Read the newest run of ``dag_id`` from the demo's metadata database (in a subprocess with its env)."""
    code = (
        "import json,sys;"
        "from airflow.models.dagrun import DagRun;"
        "from airflow_provider_creatio.testing.dagrun import collect;"
        f"runs=DagRun.find(dag_id={dag_id!r});"
        "run=max(runs,key=lambda r:r.start_date or r.queued_at or r.logical_date);"
        f"res=collect({dag_id!r},run.run_id);"
        "print(json.dumps({'state':res.state,'xcoms':res.xcoms},default=str))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, check=False, capture_output=True, text=True)
    if out.returncode != 0:
        return "unknown", {}
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return data["state"], data["xcoms"]


# The reporting object the nightly sync writes to: a custom (Usr) entity a Creatio team would add.
CUSTOM_ENTITIES = {
    "UsrContactCopy": {
        "Name": "text",
        "Email": "text",
        "Phone": "text",
        "JobTitle": "text",
        "Account": "lookup:Account",
        "SourceModifiedOn": "datetime",
    }
}


def admin(url: str, action: str, body: object) -> None:
    request = urllib.request.Request(
        f"{url}/__emulator__/{action}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).close()


def seed_demo_site(url: str, net_core: bool) -> None:
    """Add the custom entity, then give the nightly sync something to find: three contacts changed just now,
    created through the client as any integration would."""
    from airflow_provider_creatio.client import CreatioClient, CreatioConfig, odata

    admin(url, "settings", {"custom_entities": CUSTOM_ENTITIES})
    admin(url, "reset", {})

    people = [
        ("Ada Lovelace", "ADA@Example.com"),
        ("Grace Hopper", "grace@example.com "),
        ("Alan Turing", ""),
    ]
    config = CreatioConfig(base_url=url, username="Supervisor", password="Supervisor", net_core=net_core)
    with CreatioClient(config) as client:
        for name, email in people:
            client.execute(
                odata.create_record("Contact", {"Name": name, "Email": email, "MobilePhone": "+1 (555) 010"})
            )


def short(value: object, limit: int = 90) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/demo.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--auth", choices=["forms", "oauth"], default="forms")
    parser.add_argument("--net-core", action="store_true", help="the .NET Core layout")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    shutil.rmtree(HOME, ignore_errors=True)
    LOGS.mkdir(parents=True)
    port, identity_port = free_port(), free_port()
    site, identity = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{identity_port}"
    emulator = start_emulator(port, identity_port, args.net_core)
    try:
        env = airflow_env(connection(site, identity, args))
        layout = ".NET Core" if args.net_core else ".NET Framework"
        print(f"Creatio emulator on {site} ({layout}, {args.auth} auth; identity server {identity})")
        print(f"Airflow home {HOME}")
        if run([sys.executable, "-m", "airflow", "db", "migrate"], env, LOGS / "db-migrate.log"):
            print(f"airflow db migrate failed, see {LOGS / 'db-migrate.log'}")
            return 1
        seed_demo_site(site, args.net_core)
        # "Now": the nightly sync's data interval is then the last 24 hours, which holds the contacts just made.
        logical_date = (datetime.now(timezone.utc) + timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        failed = 0
        for dag_id in dag_ids(env):
            log = LOGS / f"{dag_id}.log"
            rc = run([sys.executable, "-m", "airflow", "dags", "test", dag_id, logical_date], env, log)
            state, xcoms = summarize(env, dag_id)
            ok = rc == 0 and state == "success"
            failed += not ok
            print(f"{'OK  ' if ok else 'FAIL'} {dag_id}: {state}" + ("" if ok else f" (log: {log})"))
            for task_id, value in sorted(xcoms.items()):
                print(f"       {task_id} -> {short(value)}")
        print(f"{failed} of the example DAGs failed." if failed else "Every example DAG succeeded.")
        return 1 if failed else 0
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
