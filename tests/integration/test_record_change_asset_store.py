"""Where a record-change watch keeps its mark on Airflow 3.3+: the watched asset's state store, carried over from
the Variable an earlier provider version kept it in; the Variable when the trigger watches several assets.

The accessors here stand in for Airflow's ``AssetStateStoreAccessors`` (``aget``/``aset``, and the ``ValueError``
it raises when a trigger has several assets); the real store is exercised in the deployment tier
(tests/deployment/test_record_change_deployed.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_creatio import marks
from airflow_provider_creatio.client.changes import Mark
from airflow_provider_creatio.triggers._record_change_stream import (
    AssetWatchStore,
    RecordChangeProducer,
    VariableWatchStore,
)
from airflow_provider_creatio.triggers.record_change import CreatioRecordChangeTrigger

OLD = Mark("2026-12-01T10:00:00.1234567Z", "11111111-1111-1111-1111-111111111111")
NEW = Mark("2026-12-02T10:00:00.1234567Z", "22222222-2222-2222-2222-222222222222")


class Accessors:
    """One asset's state store, in memory; ``assets=2`` answers as Airflow does for a trigger with two."""

    def __init__(self, assets: int = 1) -> None:
        self.assets = assets
        self.values: dict[str, Any] = {}

    def _single(self) -> None:
        if self.assets != 1:
            raise ValueError(f"Task has {self.assets} concrete inlets and outlets")

    async def aget(self, key: str, default: Any = None) -> Any:
        self._single()
        return self.values.get(key, default)

    async def aset(self, key: str, value: Any) -> None:
        self._single()
        self.values[key] = value


@pytest.fixture
def variables(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    kept: dict[str, str] = {}
    monkeypatch.setattr(marks.Variable, "get", staticmethod(lambda key, default=None: kept.get(key, default)))
    monkeypatch.setattr(
        marks.Variable, "set", staticmethod(lambda key, value, description=None: kept.__setitem__(key, value))
    )
    return kept


def watch() -> CreatioRecordChangeTrigger:
    return CreatioRecordChangeTrigger(entity="Case", filter={"Subject": "asset store"})


def store_of(accessors: Accessors) -> AssetWatchStore:
    return AssetWatchStore(accessors, VariableWatchStore(watch().mark_variable()))  # type: ignore[arg-type]


def state(mark: Mark) -> dict[str, Any]:
    return {"entity": "Case", "mark": mark.to_dict()}


async def test_the_mark_is_read_and_written_in_the_asset_state_store(variables: dict[str, str]) -> None:
    accessors = Accessors()
    store = store_of(accessors)
    key = watch().mark_variable()

    assert await store.load() is None
    await store.save(state(NEW))

    assert accessors.values[key] == state(NEW)
    assert await store.load() == state(NEW)
    assert variables == {}  # no Variable written


async def test_a_variable_mark_is_carried_over_once_and_then_left_alone(variables: dict[str, str]) -> None:
    key = watch().mark_variable()
    variables[key] = json.dumps(state(OLD))
    accessors = Accessors()
    store = store_of(accessors)

    assert await store.load() == state(OLD)  # where the upgraded watch goes on from
    assert accessors.values[key] == state(OLD)  # copied before any event

    await store.save(state(NEW))
    assert await store.load() == state(NEW)  # the store, not the Variable, from now on
    assert json.loads(variables[key]) == state(OLD)


async def test_a_watch_of_several_assets_keeps_its_mark_in_the_variable(variables: dict[str, str]) -> None:
    store = store_of(Accessors(assets=2))
    key = watch().mark_variable()

    assert await store.load() is None
    await store.save(state(NEW))

    assert json.loads(variables[key]) == state(NEW)
    assert await store.load() == state(NEW)


def test_the_producer_gets_the_store_the_triggerer_gave_its_trigger() -> None:
    accessors = Accessors()
    given = watch()
    given.asset_state_store = accessors  # type: ignore[assignment]  # as the triggerer does, before the stream

    producer = CreatioRecordChangeTrigger.create_shared_stream_producer(given.serialize()[1])
    other = CreatioRecordChangeTrigger.create_shared_stream_producer(
        CreatioRecordChangeTrigger(entity="Contact").serialize()[1]
    )

    assert isinstance(producer, RecordChangeProducer) and isinstance(producer.store, AssetWatchStore)
    assert producer.store.accessors is accessors
    assert isinstance(other, RecordChangeProducer) and isinstance(other.store, VariableWatchStore)
