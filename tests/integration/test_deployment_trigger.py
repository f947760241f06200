"""``AirflowDeployment.trigger`` against a stand-in for Airflow's REST API that is slow to answer (as the
api-server is on SQLite while the scheduler and the dag-processor write): a trigger whose answer timed out is
sent again with the same run id, and exactly one run exists afterwards."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio.testing.deployment import AirflowDeployment


class SlowAirflow(ThreadingHTTPServer):
    """Creates each posted run, but answers the first ``slow_posts`` posts only after ``delay`` seconds."""

    def __init__(self, slow_posts: int, delay: float) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.slow_posts, self.delay = slow_posts, delay
        self.runs: list[str] = []
        self.posts = 0
        self.lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out has gone: writing its late answer breaks the pipe


class Handler(BaseHTTPRequestHandler):
    server: SlowAirflow

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

    def do_PATCH(self) -> None:
        self._body()
        self._answer(200, {"is_paused": False})

    def do_POST(self) -> None:
        body = self._body()
        if self.path == "/auth/token":
            self._answer(201, {"access_token": "token"})
            return
        with self.server.lock:
            self.server.posts += 1
            slow = self.server.posts <= self.server.slow_posts
            exists = body["dag_run_id"] in self.server.runs
            if not exists:
                self.server.runs.append(body["dag_run_id"])
        if slow:
            time.sleep(self.server.delay)
        if exists:
            self._answer(409, {"detail": f"DAG run {body['dag_run_id']} already exists"})
        else:
            self._answer(200, {"dag_run_id": body["dag_run_id"]})


@pytest.fixture
def slow_airflow(request: pytest.FixtureRequest) -> Iterator[SlowAirflow]:
    server = SlowAirflow(*request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def deployment(server: SlowAirflow, tmp_path: Path) -> AirflowDeployment:
    airflow = AirflowDeployment(tmp_path, tmp_path)
    airflow.api_port = server.server_address[1]
    airflow.request_timeout = 0.5
    return airflow


@pytest.mark.parametrize("slow_airflow", [(1, 1.5)], indirect=True)
def test_a_timed_out_trigger_is_sent_again_and_makes_one_run(
    slow_airflow: SlowAirflow, tmp_path: Path
) -> None:
    run_id = deployment(slow_airflow, tmp_path).trigger("example")
    assert slow_airflow.runs == [run_id]  # the first post made the run; the second found it (409)
    assert slow_airflow.posts == 2
    assert run_id.startswith("manual__")


@pytest.mark.parametrize("slow_airflow", [(0, 0.0)], indirect=True)
def test_a_prompt_trigger_is_sent_once(slow_airflow: SlowAirflow, tmp_path: Path) -> None:
    airflow = deployment(slow_airflow, tmp_path)
    first, second = airflow.trigger("example"), airflow.trigger("example")
    assert first != second
    assert slow_airflow.runs == [first, second]
    assert slow_airflow.posts == 2


@pytest.mark.parametrize("slow_airflow", [(5, 1.5)], indirect=True)
def test_an_api_that_never_answers_in_time_fails_after_three_tries(
    slow_airflow: SlowAirflow, tmp_path: Path
) -> None:
    with pytest.raises(TimeoutError):
        deployment(slow_airflow, tmp_path).trigger("example")
    assert slow_airflow.posts == 3
    assert len(slow_airflow.runs) == 1
