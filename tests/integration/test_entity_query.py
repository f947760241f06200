"""Paged queries against the emulator: every record, one page in memory, server caps, stable order, limits."""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio._compat import AirflowException
from airflow_provider_creatio.client import odata
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.operators.entity import CreatioQueryEntitiesOperator

pytestmark = pytest.mark.creatio_every_site

TOTAL = 25_000


class LiveRecords:
    """Counts the query records alive in the client. Every record the OData parser makes is registered; a record
    stops counting the moment nothing refers to it any more (CPython frees it then)."""

    class Record(dict[str, Any]):
        __slots__ = ("__weakref__",)

    def __init__(self) -> None:
        self.alive = 0
        self.made = 0
        self.peak = 0

    def _freed(self) -> None:
        self.alive -= 1

    def make(self, document: dict[str, Any]) -> dict[str, Any]:
        record = self.Record((k, v) for k, v in document.items() if not k.startswith("@"))
        weakref.finalize(record, self._freed)
        self.alive += 1
        self.made += 1
        self.peak = max(self.peak, self.alive)
        return record


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch) -> LiveRecords:
    tracker = LiveRecords()
    monkeypatch.setattr(odata, "record_from_json", tracker.make)
    return tracker


@pytest.fixture
def many_accounts(creatio_connection: Any) -> Any:
    store = creatio_connection.store
    with store.lock:
        for number in range(TOTAL):
            store.insert("Account", {"Name": f"Account {number % 97:02d}", "Phone": f"+1 555 {number:05d}"})
    creatio_connection.state.log.clear()
    return creatio_connection


@pytest.fixture
def hook(creatio_connection: Any) -> Iterator[CreatioHook]:
    with CreatioHook() as creatio:
        yield creatio


def test_25000_records_come_back_across_pages_with_one_page_alive_at_a_time(
    many_accounts: Any, hook: CreatioHook, live: LiveRecords
) -> None:
    total = many_accounts.store.count("Account")
    seen: set[str] = set()
    for record in hook.iter_records("Account", page_size=1000):
        seen.add(record["Id"])
        # Alive now: the rest of the current page in the iterator, and this record in the caller's hand.
        assert live.alive <= 1000
    assert len(seen) == total >= TOTAL
    assert live.made == total
    # While the next page is parsed the caller still holds the last record of the previous one: 1000 + 1.
    assert 1000 <= live.peak <= 1001
    assert many_accounts.count("GET", "/odata/Account") == -(-total // 1000)  # 26 pages, no extra request


def test_a_server_page_cap_is_not_taken_for_the_end(
    many_accounts: Any, hook: CreatioHook, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(many_accounts.settings, "max_page_size", 700)
    ids = [record["Id"] for record in hook.iter_records("Account", select="Id", page_size=5000)]
    total = many_accounts.store.count("Account")
    assert len(ids) == len(set(ids)) == total
    assert many_accounts.count("GET", "/odata/Account") == -(-total // 700)


def test_paging_over_a_non_unique_order_neither_repeats_nor_skips(
    many_accounts: Any, hook: CreatioHook
) -> None:
    # 97 distinct names over 25,000 rows: without the Id tie-breaker, equal names could swap between pages.
    ids = [r["Id"] for r in hook.iter_records("Account", select="Id", orderby="Name desc", page_size=1000)]
    assert len(ids) == len(set(ids)) == many_accounts.store.count("Account")
    pages = [r.query for r in many_accounts.requests if r.path.endswith("/Account")]
    assert pages and all("$orderby=Name%20desc,Id&" in query for query in pages)


def test_max_records_stops_paging_early(many_accounts: Any, hook: CreatioHook) -> None:
    first = list(hook.iter_records("Account", select="Id", page_size=400, max_records=1000))
    assert len(first) == 1000
    pages = [r.query for r in many_accounts.requests if r.path.endswith("/Account")]
    assert [q.split("$top=")[1].split("&")[0] for q in pages] == ["400", "400", "200"]


def test_query_operator_writes_json_lines_and_returns_path_and_count(
    many_accounts: Any, tmp_path: Path, live: LiveRecords
) -> None:
    target = tmp_path / "out" / "accounts.jsonl"
    result = CreatioQueryEntitiesOperator(
        task_id="q",
        entity="Account",
        filter={"Name": "Account 05"},
        select=["Id", "Name", "Phone"],
        page_size=50,
        output_path=str(target),
    ).execute(context={})
    lines = target.read_text(encoding="utf-8").splitlines()
    assert result == {"path": str(target), "count": len(lines), "api_calls": result["api_calls"]}
    assert len(lines) == sum(1 for n in range(TOTAL) if n % 97 == 5)
    assert {json.loads(line)["Name"] for line in lines} == {"Account 05"}
    assert live.peak <= 51  # one page, and the record being written
    assert list(target.parent.iterdir()) == [target]  # no temporary file left behind


def test_query_operator_top_takes_the_first_records_in_order(creatio_connection: Any) -> None:
    store = creatio_connection.store
    for name in ("Delta", "Alpha", "Charlie", "Bravo"):
        store.insert("Account", {"Name": f"Top {name}"})
    records = CreatioQueryEntitiesOperator(
        task_id="q",
        entity="Account",
        filter="startswith(Name,'Top ')",
        orderby="Name",
        select="Name",
        top=3,
        page_size=2,
    ).execute(context={})
    assert records == [{"Name": "Top Alpha"}, {"Name": "Top Bravo"}, {"Name": "Top Charlie"}]


def test_max_records_guards_against_a_result_larger_than_expected(
    creatio_connection: Any, tmp_path: Path
) -> None:
    store = creatio_connection.store
    for number in range(12):
        store.insert("Account", {"Name": f"Guard {number}"})
    target = tmp_path / "guard.jsonl"
    operator = CreatioQueryEntitiesOperator(
        task_id="q",
        entity="Account",
        filter={"Name__startswith": "Guard "},
        max_records=10,
        output_path=str(target),
    )
    with pytest.raises(AirflowException, match="more than max_records=10"):
        operator.execute(context={})
    assert not target.exists() and list(tmp_path.iterdir()) == []
    operator.max_records = 12
    assert operator.execute(context={}) == {"path": str(target), "count": 12, "api_calls": 1}
