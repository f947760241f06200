"""A real Airflow on this machine: api-server, scheduler, dag-processor and triggerer as separate processes.

``dag.test()`` runs tasks and triggers inline in one process; a deployment does not, and some defects only show
there (triggers that overlap in one triggerer's event loop, runs triggered without a logical date, the UI's
Test button). The deployment tier of the test suite and ``make demo`` both start Airflow through this module::

    with AirflowDeployment(home, dags_folder, env={"AIRFLOW_CONN_CREATIO_DEFAULT": ...}) as airflow:
        airflow.wait_for_dag("example_creatio_long_process")
        run_id = airflow.trigger("example_creatio_long_process")  # no logical date, as the UI and CLI do
        assert airflow.wait_for_run("example_creatio_long_process", run_id) == "success"

Everything listens on free loopback ports, by default with the LocalExecutor and SQLite (``env`` can choose
another executor and database). Each component runs in its own process group, so that stopping it (or killing it
with SIGKILL, as a test may) also ends the task processes it supervises. Every process started here is stopped on
exit, by process id, also when the block fails.

A component named with a number (``triggerer-2``, ``celery-worker-1``) is a replica: it runs with an
``AIRFLOW_HOME`` of its own under ``home`` (its own log folder and log server port), as on another machine, so
that nothing it writes is visible to the other components except through Airflow itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

_T = TypeVar("_T")
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
REPLICA = re.compile(r"(?P<kind>[a-z-]+?)-(?P<number>\d+)")
FINAL_RUN_STATES = frozenset({"success", "failed"})
ADMIN_USER = "admin"
_START_LIMIT = 120.0  # seconds for a component (or a DAG file) to come up on a busy 2-core machine
_EXECUTOR_EVENT = re.compile(
    r"Received executor event with state (?!queued)\w+ for task instance TaskInstanceKey\(dag_id='(?P<dag_id>[^']*)', "
    r"task_id='(?P<task_id>[^']*)', run_id='(?P<run_id>[^']*)', try_number=\d+, map_index=(?P<map_index>-?\d+)\)"
)


def free_port() -> int:
    """A port free now, for a server that binds it some seconds later. Not one the kernel hands out (bind to
    port 0): in between, an outgoing connection may be given the same ephemeral port, and the server then fails
    with "address already in use" (seen with the api-server). A random port below the ephemeral range is only
    ever taken by a server that asks for it."""
    low = _ephemeral_range_start()
    for _ in range(100):
        port = random.randrange(_LOWEST_PORT, low)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise DeploymentError(f"no free port between {_LOWEST_PORT} and {low}")


_LOWEST_PORT = 20_000  # above the well-known and most registered service ports


def _ephemeral_range_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):  # not Linux: IANA's dynamic range starts at 49152
        return 49_152


class DeploymentError(RuntimeError):
    """Airflow did not do what the deployment waited for; the message ends with the relevant log lines."""


class AirflowDeployment:
    """One Airflow deployment in ``home`` that parses ``dags_folder``.

    :param env: extra environment of every component (connections as ``AIRFLOW_CONN_*``, settings).
    :param password: the password of the UI and REST user ``admin`` (simple auth manager).
    """

    request_timeout = 60.0  # seconds for an answer of the REST API

    def __init__(
        self,
        home: Path,
        dags_folder: Path,
        *,
        env: Mapping[str, str] | None = None,
        password: str = "admin",
    ) -> None:
        self.home = home
        self.dags_folder = dags_folder
        self.password = password
        self.api_port = free_port()
        self.env = {**os.environ, **self._settings(), **(env or {})}
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._token: str | None = None

    # ------------------------------------------------------------------------------------------ setup

    def _settings(self) -> dict[str, str]:
        api = f"http://127.0.0.1:{self.api_port}"
        return {
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            # Runs start only when triggered (REST, CLI, UI): no scheduled run competes with them.
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            # SQLite lets one writer in at a time: with a dozen task processes starting together, a writer may
            # wait longer than pysqlite's default 5 s (and the file is put in WAL mode by start()).
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}?timeout=120",
            # Enough slots that 20+ overlapping waits and their starters all run at once.
            "AIRFLOW__CORE__PARALLELISM": "64",
            "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "64",
            "AIRFLOW__CORE__DEFAULT_POOL_TASK_SLOT_COUNT": "128",
            # Workers reach the execution API on the api-server's port, not the default 8080.
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
            "AIRFLOW__API__BASE_URL": api,
            # Every component must sign and check the same tokens.
            "AIRFLOW__API_AUTH__JWT_SECRET": os.urandom(24).hex(),
            "AIRFLOW__API__SECRET_KEY": os.urandom(24).hex(),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
            # Two deployments on one machine must not fight over the log servers' ports.
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            # Quick to notice new DAG files, and a killed triggerer's triggers move on within seconds.
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "10",
        }

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def airflow(self, *args: str, timeout: float = 180) -> str:
        """Run an ``airflow`` CLI command to completion; its combined output (raises if it failed)."""
        done = subprocess.run(
            [sys.executable, "-m", "airflow", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        output = done.stdout + done.stderr
        if done.returncode != 0:
            raise DeploymentError(f"airflow {' '.join(args)} failed:\n{output[-3000:]}")
        return output

    def start(self, components: Iterable[str] = COMPONENTS) -> AirflowDeployment:
        """Set up the metadata database, then start ``components`` and wait until the API answers."""
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "passwords.json").write_text(json.dumps({ADMIN_USER: self.password}))
        self.airflow("db", "migrate")
        self._write_ahead_log()
        for name in components:
            self.start_component(name)
        if "api-server" in self.processes:
            self.wait_for("the api-server to answer", self._api_up)
        return self

    def _write_ahead_log(self) -> None:
        """Put a SQLite metadata database in WAL mode (it stays so: the mode is kept in the file). In SQLite's
        default mode every reader holds off a writer's commit; with a dozen DAGs triggered at once the scheduler
        then waited more than a minute for the lock and exited ("database is locked")."""
        url = self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        if url.startswith("sqlite:///"):
            with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///").partition("?")[0])) as db:
                db.execute("PRAGMA journal_mode=WAL")

    def start_component(self, name: str) -> subprocess.Popen[bytes]:
        """Start one component (again, after :meth:`kill`); its output goes to ``home/<name>.out``."""
        with (self.home / f"{name}.out").open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "airflow", *self._command(name)],
                env=self._component_env(name),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopping it stops its task processes too
            )
        self.processes[name] = process
        return process

    def _command(self, name: str) -> list[str]:
        kind = _kind(name)
        if kind == "api-server":
            return [kind, "--port", str(self.api_port), "--host", "127.0.0.1"]
        if kind == "celery-worker":
            # Celery names a worker after its host: replicas on one machine need names of their own.
            return ["celery", "worker", "--celery-hostname", f"{name}@%h"]
        return [kind]

    def _component_env(self, name: str) -> dict[str, str]:
        if not REPLICA.fullmatch(name):
            return self.env
        home = self.component_home(name)
        home.mkdir(parents=True, exist_ok=True)
        return {
            **self.env,
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        }

    def component_home(self, name: str) -> Path:
        """The ``AIRFLOW_HOME`` of a component: its own folder for a replica, else the deployment's."""
        return self.home / name if REPLICA.fullmatch(name) else self.home

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to a component's whole process group and wait for it to end."""
        process = self.processes.pop(name)
        _signal_group(process, sig)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(10)

    def stop(self) -> None:
        """Stop every component: SIGTERM, then SIGKILL for what is still running 20 s later."""
        for process in self.processes.values():
            _signal_group(process, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.1, deadline - time.monotonic()))
            _signal_group(process, signal.SIGKILL)  # also ends task processes left in the group
            process.wait(10)
        self.processes.clear()

    def __enter__(self) -> AirflowDeployment:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------------------------------ REST API

    def api(self, method: str, path: str, body: Any = None, *, expect: int | None = None) -> Any:
        """Call the public REST API (``/api/v2/...``) as the admin user; the decoded JSON answer.

        Raises :class:`DeploymentError` on an HTTP error, unless its status is ``expect``. A call other than a
        POST is sent again when its answer timed out (see :meth:`trigger` for the POST that needs it).
        """
        if method == "POST":
            return self._call(method, path, body, expect)
        return self._patiently(lambda: self._call(method, path, body, expect))

    def _call(self, method: str, path: str, body: Any, expect: int | None) -> Any:
        request = urllib.request.Request(
            self.api_url + path,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token()}"},
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=self.request_timeout) as answer:
                status, text = answer.status, answer.read().decode()
        except urllib.error.HTTPError as err:
            status, text = err.code, err.read().decode(errors="replace")
            if status != expect:
                raise DeploymentError(f"{method} {path} answered {status}: {text[:2000]}") from None
        if expect is not None and status != expect:
            raise DeploymentError(f"{method} {path} answered {status}, expected {expect}: {text[:2000]}")
        return json.loads(text) if text else None

    def token(self) -> str:
        """A JWT of the admin user from the simple auth manager's token endpoint."""
        if self._token is None:
            request = urllib.request.Request(
                f"{self.api_url}/auth/token",
                data=json.dumps({"username": ADMIN_USER, "password": self.password}).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=30) as answer:
                self._token = str(json.loads(answer.read())["access_token"])
        return self._token

    def _api_up(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_url}/api/v2/monitor/health", timeout=5):
                return True
        except OSError:
            return False

    def dag_ids(self) -> list[str]:
        """The DAG ids of the DAGs folder, read by a DagBag in a subprocess (the CLI mixes log lines into its
        output); raises on an import error."""
        code = (
            "import json,sys;from airflow.dag_processing.dagbag import DagBag;"
            "bag=DagBag(dag_folder=sys.argv[1]);"
            "print(json.dumps({'ids':sorted(bag.dag_ids),'errors':bag.import_errors}))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, str(self.dags_folder)],
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise DeploymentError(f"reading the DAGs folder failed:\n{done.stderr[-3000:]}")
        found = json.loads(done.stdout.strip().splitlines()[-1])
        if found["errors"]:
            raise DeploymentError(f"DAG import errors: {found['errors']}")
        return list(found["ids"])

    def wait_for_dags(self, dag_ids: Iterable[str]) -> None:
        for dag_id in dag_ids:
            self.wait_for_dag(dag_id)

    def wait_for_dag(self, dag_id: str) -> None:
        """Wait until the dag-processor has parsed ``dag_id`` (and fail early on its import error)."""

        def parsed() -> bool:
            errors = self.api("GET", "/api/v2/importErrors")["import_errors"]
            if errors:
                raise DeploymentError(f"DAG import errors: {errors}")
            found = self.api("GET", "/api/v2/dags?" + urllib.parse.urlencode({"dag_id_pattern": dag_id}))
            return any(dag["dag_id"] == dag_id for dag in found["dags"])

        self.wait_for(f"the dag-processor to parse {dag_id}", parsed)

    def trigger(self, dag_id: str, conf: Mapping[str, Any] | None = None) -> str:
        """Trigger ``dag_id`` through the REST API without a logical date (Airflow 3's default); its run id.

        The run id is chosen here (in Airflow's own ``manual__<time>`` form), so that a call whose answer timed
        out can be sent again: on SQLite the api-server may wait long for a write while the scheduler and the
        dag-processor write too, and may create the run all the same. A try after such a timeout that finds the
        run there (409) is done; there is never a second run."""
        self.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
        run_id = f"manual__{datetime.now(timezone.utc).isoformat()}"
        body = {"dag_run_id": run_id, "logical_date": None, "conf": dict(conf or {})}
        self._patiently(lambda: self._create_run(dag_id, body))
        return run_id

    def _create_run(self, dag_id: str, body: Mapping[str, Any]) -> None:
        try:
            self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", body)
        except DeploymentError as err:
            if " answered 409:" not in str(err):  # 409: an earlier try, whose answer timed out, created it
                raise

    @staticmethod
    def _patiently(call: Callable[[], _T], tries: int = 3) -> _T:
        """``call()``, made again (up to ``tries`` times in all) while its answer times out: for calls that
        change nothing when made twice."""
        for _ in range(tries - 1):
            try:
                return call()
            except (TimeoutError, urllib.error.URLError) as err:
                if not isinstance(getattr(err, "reason", err), TimeoutError):
                    raise
        return call()

    def run_state(self, dag_id: str, run_id: str) -> str:
        return str(self.api("GET", f"/api/v2/dags/{dag_id}/dagRuns/{_quote(run_id)}")["state"])

    def wait_for_run(self, dag_id: str, run_id: str, limit: float = 600) -> str:
        """Wait until the run is success or failed; that state."""
        self.wait_for(
            f"run {run_id} of {dag_id} to finish",
            lambda: self.run_state(dag_id, run_id) in FINAL_RUN_STATES,
            limit,
        )
        return self.run_state(dag_id, run_id)

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """Every task instance of the run (mapped ones included), as the REST API gives them, page by page (the
        API gives at most ``[api] maximum_page_limit``, 100 by default, per call)."""
        found: list[dict[str, Any]] = []
        while True:
            page = self.api(
                "GET",
                f"/api/v2/dags/{dag_id}/dagRuns/{_quote(run_id)}/taskInstances?limit=100&offset={len(found)}"
                "&order_by=id",
            )
            found += page["task_instances"]
            if not page["task_instances"] or len(found) >= page["total_entries"]:
                return found

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str | None]:
        """``task_id`` (``task_id[map_index]`` for mapped tasks) -> state."""
        return {_ti_name(ti): ti["state"] for ti in self.task_instances(dag_id, run_id)}

    def wait_for_states(
        self,
        dag_id: str,
        run_id: str,
        want: Callable[[dict[str, str | None]], bool],
        what: str,
        limit: float = 300,
    ) -> dict[str, str | None]:
        """Wait until ``want(task_states)`` holds; those states."""
        self.wait_for(what, lambda: want(self.task_states(dag_id, run_id)), limit)
        return self.task_states(dag_id, run_id)

    # ------------------------------------------------------------------------------------------ logs

    def trigger_logs(self, dag_id: str, run_id: str) -> dict[str, list[Path]]:
        """Task (``task[map_index]`` for mapped ones) -> the logs triggerers wrote of its waits: a triggerer
        writes ``attempt=N.log.trigger.<its job id>.log`` beside the task's log when it starts the task's trigger.
        Tasks that never deferred are absent; a wait taken over by another triggerer has a log of each."""
        logs: dict[str, list[Path]] = {}
        for _component, task, path in self._run_logs(dag_id, run_id, "*.log.trigger.*.log"):
            logs.setdefault(task, []).append(path)
        return logs

    def deferred_tasks(self, dag_id: str, run_id: str) -> set[str]:
        """The tasks of the run whose wait ran in a triggerer."""
        return set(self.trigger_logs(dag_id, run_id))

    def tasks_by_component(self, dag_id: str, run_id: str, *, waits: bool = False) -> dict[str, set[str]]:
        """Component -> the tasks of the run whose log it wrote in its own home: which worker ran which task or,
        with ``waits``, which triggerer carried which wait. Only replicas keep their logs apart; the other
        components share the deployment's log folder (named ``""`` here)."""
        found: dict[str, set[str]] = {}
        for component, task, path in self._run_logs(dag_id, run_id, "attempt=*.log"):
            if (".log.trigger." in path.name) == waits:
                found.setdefault(component, set()).add(task)
        return found

    def task_logs(self, dag_id: str, run_id: str) -> dict[str, list[Path]]:
        """Task (``task[map_index]`` for mapped ones) -> its log files of the run, every attempt and every
        triggerer's log of its waits, in every component's home."""
        logs: dict[str, list[Path]] = {}
        for _component, task, path in self._run_logs(dag_id, run_id, "attempt=*.log*"):
            logs.setdefault(task, []).append(path)
        return logs

    def failure_report(self, dag_id: str, run_id: str, tail: int = 3000) -> dict[str, str]:
        """Failed task (``task[map_index]``) -> the end of its task logs, every attempt: what a test prints when a
        run it expected to succeed did not, so that CI's output alone says why."""
        failed = {task for task, state in self.task_states(dag_id, run_id).items() if state == "failed"}
        report: dict[str, str] = {}
        for _component, task, path in self._run_logs(dag_id, run_id, "attempt=*.log"):
            if task in failed and ".log.trigger." not in path.name:
                text = path.read_text(errors="replace")[-tail:]
                report[task] = report.get(task, "") + f"--- {path.name}\n{text}\n"
        return report

    def _run_logs(self, dag_id: str, run_id: str, pattern: str) -> Iterable[tuple[str, str, Path]]:
        """(component, task, path) of the run's log files matching ``pattern`` in every component's home."""
        homes = {"": self.home} | {
            path.name: path for path in self.home.iterdir() if path.is_dir() and REPLICA.fullmatch(path.name)
        }
        for component, home in sorted(homes.items()):
            run_folder = home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
            for path in sorted(run_folder.rglob(pattern)):
                parts = dict(part.split("=", 1) for part in path.relative_to(run_folder).parts[:-1])
                task = (
                    parts["task_id"]
                    if "map_index" not in parts
                    else f"{parts['task_id']}[{parts['map_index']}]"
                )
                yield component, task, path

    def workloads_reported(self, dag_id: str, run_id: str) -> set[str]:
        """Tasks of the run whose executor workload the scheduler has been told has ended (from its log).

        A deferral ends the task's workload. If the trigger fires before the scheduler has read that report (a
        busy scheduler can lag seconds behind), Airflow 3.3 fails the task it has already queued again ("finished
        with state success, but the task instance's state attribute is queued"): an Airflow race, not the
        provider's, which a test avoids by letting waits end only after this covers them.
        """
        reported = set()  # (a Celery worker also reports "queued": not an end, and not matched)
        for match in _EXECUTOR_EVENT.finditer(self.component_output("scheduler", tail=None)):
            if match["dag_id"] == dag_id and match["run_id"] == run_id:
                index = int(match["map_index"])
                reported.add(match["task_id"] if index == -1 else f"{match['task_id']}[{index}]")
        return reported

    def component_output(self, name: str, tail: int | None = 4000) -> str:
        """What a component printed (its last ``tail`` characters; None: all)."""
        path = self.home / f"{name}.out"
        text = path.read_text(errors="replace") if path.exists() else ""
        return text if tail is None else text[-tail:]

    # ------------------------------------------------------------------------------------------ waiting

    def wait_for(self, what: str, condition: Callable[[], bool], limit: float = _START_LIMIT) -> None:
        """Poll ``condition`` until it holds; fail (with the components' last output) when a component exits or
        after ``limit`` seconds."""
        deadline = time.monotonic() + limit
        while not condition():
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise DeploymentError(
                        f"the {name} exited ({process.returncode}) while waiting for {what}:\n"
                        + self.component_output(name)
                    )
            if time.monotonic() > deadline:
                logs = "\n".join(
                    f"--- {name}\n{self.component_output(name, 1500)}" for name in self.processes
                )
                raise DeploymentError(f"gave up after {limit:.0f} s waiting for {what}\n{logs}")
            time.sleep(0.5)


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    """Signal the component and every process left in its group (task processes outlive a killed parent)."""
    with contextlib.suppress(ProcessLookupError):  # the whole group has ended
        os.killpg(process.pid, sig)


def _kind(name: str) -> str:
    """What a component runs: ``triggerer`` for ``triggerer-2``."""
    replica = REPLICA.fullmatch(name)
    return replica["kind"] if replica else name


def _quote(run_id: str) -> str:
    return urllib.parse.quote(run_id, safe="")


def _ti_name(ti: Mapping[str, Any]) -> str:
    index = ti.get("map_index", -1)
    return str(ti["task_id"]) if index in (-1, None) else f"{ti['task_id']}[{index}]"
