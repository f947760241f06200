"""CreatioRecordChangeTrigger in a real deployment: an AssetWatcher's trigger in the triggerer, its asset events
stored by Airflow and turned into runs by the scheduler (dag_files/deployment_record_change.py, polling every 5 s
for cases with the subject "deployment watch"). Time is counted in the trigger's polls, as the emulator saw them.

It runs in the ``scheduling`` deployment (conftest.py), whose scheduler turns asset events into runs."""

from __future__ import annotations

import json
import signal
from typing import Any
from urllib.parse import parse_qs

import pytest
from conftest import Site

from airflow_provider_creatio.triggers.record_change import CreatioRecordChangeTrigger

DAG_ID = "deployment_record_change"
SUBJECT = "deployment watch"
# The DAG file's trigger: the same watched arguments (connection, entity, filter, since) name the same mark.
TRIGGER = CreatioRecordChangeTrigger(
    entity="Case", filter={"Subject": SUBJECT}, poll_interval=5, clock_margin=1, ids_limit=3
)
ASSET = "deployment_watched_cases"  # the watched asset, whose state store keeps the mark
LIMIT = 300.0  # seconds; generous for a busy machine: the assertions count polls, not seconds


@pytest.fixture
def site(scheduling: Site) -> Site:
    """The deployment once its watcher has polled: without ``since``, the first poll takes the newest watched case
    as its start, so a case a test made before it would never be delivered (in a random order, any test of this
    file may be the first)."""
    scheduling.airflow.wait_for_dag(DAG_ID)
    scheduling.airflow.wait_for("the watcher to poll", lambda: polls(scheduling) >= 1, LIMIT)
    return scheduling


def polls(site: Site) -> int:
    """The watcher's reads of Case so far."""
    return sum(
        1
        for request in site.creatio.requests
        if request.method == "GET"
        and "/Case" in request.path
        and SUBJECT in "".join(parse_qs(request.query).get("$filter", []))
    )


def run_ids(site: Site) -> list[str]:
    runs = site.airflow.api("GET", f"/api/v2/dags/{DAG_ID}/dagRuns?order_by=run_after&limit=100")
    return [run["dag_run_id"] for run in runs["dag_runs"]]


def run_payloads(site: Site, run_id: str) -> list[dict[str, Any]]:
    airflow = site.airflow
    assert airflow.wait_for_run(DAG_ID, run_id, LIMIT) == "success", airflow.task_states(DAG_ID, run_id)
    value = airflow.api(
        "GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/payloads/xcomEntries/return_value"
    )["value"]
    return json.loads(value) if isinstance(value, str) else value


def delivered(site: Site, runs: list[str]) -> set[str]:
    return {
        case_id for run_id in runs for payload in run_payloads(site, run_id) for case_id in payload["ids"]
    }


def add_cases(site: Site, count: int) -> list[str]:
    """``count`` watched cases, written at once: no poll reads between them."""
    store = site.creatio.store
    with store.lock:
        return [store.insert("Case", {"Subject": SUBJECT})["Id"] for _ in range(count)]


def wait_for_polls(site: Site, count: int) -> None:
    target = polls(site) + count
    site.airflow.wait_for(f"{count} more polls", lambda: polls(site) >= target, LIMIT)


def asset_state_path(site: Site) -> str:
    """The REST path of the watch's mark in the watched asset's state store."""
    assets = site.airflow.api("GET", f"/api/v2/assets?name_pattern={ASSET}")["assets"]
    [asset_id] = [asset["id"] for asset in assets if asset["name"] == ASSET]
    return f"/api/v2/assets/{asset_id}/state-store/{TRIGGER.mark_variable()}"


def stored_mark(site: Site) -> dict[str, Any]:
    """The watch's durable mark, as the asset state store holds it."""
    return dict(site.airflow.api("GET", asset_state_path(site))["value"])


def test_the_watcher_polls_and_nothing_changed_starts_no_run(site: Site) -> None:
    site.airflow.wait_for_dag(DAG_ID)
    site.airflow.wait_for("the watcher to poll", lambda: polls(site) >= 1, LIMIT)
    before = run_ids(site)
    wait_for_polls(site, 4)
    assert run_ids(site) == before
    assert stored_mark(site)["entity"] == "Case"  # the start, kept before any event


def test_a_new_record_starts_a_run_within_two_polls_with_its_payload(site: Site) -> None:
    before = set(run_ids(site))
    mark_before = stored_mark(site)
    created = add_cases(site, 4)
    polls_at_create = polls(site)
    site.airflow.wait_for("a run", lambda: bool(set(run_ids(site)) - before), LIMIT)
    # Two polls even with the clock margin: the cases are stamped before polls_at_create is counted, and a poll
    # reads the changes stamped more than clock_margin (1 s) before it starts. The first poll after the create
    # may come sooner than that and leave them, but the second starts a full poll_interval (5 s) after the first,
    # so more than 1 s after the stamps (the triggerer and the emulator share this machine's clock).
    assert polls(site) - polls_at_create <= 2

    [run_id] = set(run_ids(site)) - before
    [payload] = run_payloads(site, run_id)
    store = site.creatio.store
    last = max((store.get("Case", case_id) for case_id in created), key=lambda case: case["ModifiedOn"])
    assert payload["count"] == 4 and payload["truncated"] is True
    assert len(payload["ids"]) == 3 and set(payload["ids"]) <= set(created)
    assert payload["mark"]["ModifiedOn"] == last["ModifiedOn"]
    assert payload["mark"]["Id"] in created
    assert payload["after"] == mark_before["mark"]  # the batch starts after the stored mark
    # The durable mark moves to the event's once Airflow stored the event.
    site.airflow.wait_for("the mark to advance", lambda: stored_mark(site)["mark"] == payload["mark"], LIMIT)


def restart_triggerer_around(site: Site, change: Any) -> None:
    """SIGKILL the triggerer's process group, make ``change()`` while none runs, start a new one."""
    site.airflow.kill("triggerer", signal.SIGKILL)
    change()
    site.airflow.start_component("triggerer")


def wait_until_delivered(site: Site, before: set[str], ids: set[str]) -> None:
    """Until the runs started since ``before`` are finished and their asset events name every id of ``ids``."""
    airflow = site.airflow

    def all_delivered() -> bool:
        runs = sorted(set(run_ids(site)) - before)
        finished = [run_id for run_id in runs if airflow.run_state(DAG_ID, run_id) in ("success", "failed")]
        return len(finished) == len(runs) and ids <= delivered(site, runs)

    airflow.wait_for(f"{len(ids)} changes to be delivered", all_delivered, LIMIT)


def test_a_change_while_the_triggerer_is_down_is_delivered_after_its_restart(site: Site) -> None:
    """The first change is delivered (its run exists, its mark is stored) before the kill; the second is made
    while no triggerer runs. A new triggerer continues from the stored mark, not from a new "now"."""
    before = set(run_ids(site))
    [first] = add_cases(site, 1)
    wait_until_delivered(site, before, {first})
    second: list[str] = []
    restart_triggerer_around(site, lambda: second.extend(add_cases(site, 1)))
    wait_until_delivered(site, before, {first, *second})


def test_a_change_read_by_a_killed_triggerer_comes_again_or_was_stored(site: Site) -> None:
    """The kill comes right after the change is made: the killed triggerer may have read it, stored its event,
    both or neither. Either way the change is delivered, and the one made while none ran too."""
    before = set(run_ids(site))
    [first] = add_cases(site, 1)
    wait_for_polls(site, 1)  # the change was read, or is read by a later poll
    second: list[str] = []
    restart_triggerer_around(site, lambda: second.extend(add_cases(site, 1)))
    wait_until_delivered(site, before, {first, *second})


def test_a_watch_upgraded_from_a_variable_mark_delivers_every_change_once(site: Site) -> None:
    """An earlier provider version kept the mark in a Variable. With the triggerer down, the state store's mark
    is removed and the Variable holds the mark of a delivered case (``old``), as after that version's last event;
    ``after`` is made after it. The new triggerer carries the Variable's mark over: ``after`` comes, ``old`` does
    not. A second restart then goes on from the asset state store, not from the Variable (still at ``old``): no
    change comes twice, and one made while the triggerer was down comes once."""
    airflow, before = site.airflow, set(run_ids(site))
    [old] = add_cases(site, 1)
    wait_until_delivered(site, before, {old})
    airflow.wait_for("the mark to reach it", lambda: stored_mark(site)["mark"]["Id"] == old, LIMIT)
    since_old = set(run_ids(site))
    variable = {"entity": "Case", "mark": stored_mark(site)["mark"]}
    after: list[str] = []

    def downgrade_the_mark() -> None:
        airflow.api("DELETE", asset_state_path(site), expect=204)
        airflow.api(
            "POST", "/api/v2/variables", {"key": TRIGGER.mark_variable(), "value": json.dumps(variable)}
        )
        after.extend(add_cases(site, 2))

    restart_triggerer_around(site, downgrade_the_mark)
    wait_until_delivered(site, since_old, set(after))
    airflow.wait_for("the carried mark to move", lambda: stored_mark(site)["mark"]["Id"] in after, LIMIT)
    last: list[str] = []
    restart_triggerer_around(site, lambda: last.extend(add_cases(site, 1)))
    wait_until_delivered(site, since_old, {*after, *last})
    wait_for_polls(site, 2)  # time for a redelivery to show

    mine = {old, *after, *last}  # a test before this one may have had a batch of its own delivered twice
    runs = sorted(set(run_ids(site)) - since_old)
    ids = [case_id for run_id in runs for payload in run_payloads(site, run_id) for case_id in payload["ids"]]
    assert sorted(case_id for case_id in ids if case_id in mine) == sorted(
        [*after, *last]
    )  # once, not ``old``
    variable_path = f"/api/v2/variables/{TRIGGER.mark_variable()}"
    assert json.loads(airflow.api("GET", variable_path)["value"]) == variable  # never written again
    airflow.api("DELETE", variable_path, expect=204)
