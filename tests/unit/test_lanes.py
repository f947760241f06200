"""Lanes and the bulk run on several of them, with an in-memory site: the bound on calls in flight, lazy sessions,
and outcomes in input order however the answers come back."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

import pytest

from airflow_provider_creatio.client import bulk
from airflow_provider_creatio.client.errors import CreatioValidationError
from airflow_provider_creatio.client.http import ApiResponse, Call
from airflow_provider_creatio.client.lanes import Lanes


class Site:
    """Answers each ``$batch`` with 201 for every create; a batch named in ``slow`` takes longer, so later batches
    come back first. Counts the calls in flight."""

    def __init__(self, slow: frozenset[int] = frozenset(), fail: frozenset[str] = frozenset()) -> None:
        self.slow, self.fail = slow, fail
        self.lock = threading.Lock()
        self.in_flight = self.peak = self.batches = 0

    def execute(self, call: Call[Any]) -> Any:
        with self.lock:
            number, self.batches = self.batches, self.batches + 1
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            time.sleep(0.05 if number in self.slow else 0.005)
            return call.parse(self._answer(call.request.json_body["requests"]))
        finally:
            with self.lock:
                self.in_flight -= 1

    def _answer(self, requests: list[dict[str, Any]]) -> ApiResponse:
        answers = []
        for request in requests:
            name = request["body"]["Name"]
            status = 400 if name in self.fail else 201
            body = {"error": {"message": "refused"}} if status == 400 else {"Id": request["body"]["Id"]}
            answers.append({"id": request["id"], "status": status, "headers": {}, "body": body})
        content = json.dumps({"responses": answers}).encode()
        return ApiResponse(200, {"content-type": "application/json"}, content, "POST", "$batch")


def creates(count: int) -> list[dict[str, Any]]:
    return [{"Id": str(uuid.UUID(int=n + 1)), "Name": f"n{n}"} for n in range(count)]


def test_lanes_keep_at_most_concurrency_calls_in_flight_and_open_sessions_only_when_needed() -> None:
    site = Site(slow=frozenset(range(100)))
    opened: list[int] = []

    def session(lane: int) -> Site:
        opened.append(lane)
        return site

    lanes = Lanes(3, session)
    call = bulk.batch.batch_call([bulk._prepare(bulk.BulkOperation.CREATE, "Contact", creates(1)[0])])
    lanes.execute(call)
    assert opened == [0]  # one call at a time: the first lane only
    threads = [threading.Thread(target=lanes.execute, args=(call,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert 2 <= site.peak <= 3 and set(opened) <= {0, 1, 2}  # never more than three, whatever the machine


def test_outcomes_come_in_input_order_however_the_batches_are_answered() -> None:
    records = creates(1000)
    one = bulk.bulk(Site(), "create", "Contact", records, batch_size=100)
    site = Site(slow=frozenset({0, 3}))  # the first and fourth batches come back last
    four = bulk.bulk(Lanes(4, lambda _: site), "create", "Contact", records, batch_size=100, concurrency=4)
    assert four.outcomes == one.outcomes and [o.index for o in four.outcomes] == list(range(1000))
    assert four.batch_calls == one.batch_calls == 10
    assert 2 <= site.peak <= 4


def test_without_continue_on_error_the_batches_before_a_failure_are_sent_and_those_after_it_are_not() -> None:
    records = creates(1000)
    site = Site(fail=frozenset({"n250"}))  # the third batch fails
    report = bulk.bulk(
        Lanes(2, lambda _: site), "create", "Contact", records, continue_on_error=False, concurrency=2
    )
    actions = [o.action for o in report.outcomes]
    assert actions[:250] == ["created"] * 250 and actions[250] == "failed"
    assert set(actions[300:]) <= {"created", "skipped"} and actions[-1] == "skipped"
    assert site.batches == report.batch_calls <= 4  # batch 3 and at most the one beside it


def test_the_lane_count_is_checked() -> None:
    with pytest.raises(CreatioValidationError, match="between 1 and 16"):
        Lanes(0, lambda _: Site())
    with pytest.raises(CreatioValidationError, match="between 1 and 16"):
        bulk.bulk(Site(), "create", "Contact", creates(1), concurrency=17)
