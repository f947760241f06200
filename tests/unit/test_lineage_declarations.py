"""How a task records what it wrote as asset events, and how entity arguments read (no server involved: the
Task SDK's outlet events are stood in for by a mapping that knows some asset URIs, as the api-server would)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_creatio._compat import AirflowRuntimeError, Asset
from airflow_provider_creatio.assets import storage_uri
from airflow_provider_creatio.operators.entity import CreatioCreateEntityOperator, CreatioGetEntityOperator
from airflow_provider_creatio.operators.process import CreatioRunProcessOperator
from airflow_provider_creatio.templated import rendered_names

CONTACT = "creatio://mysite.creatio.com/Contact"


class OutletEvents(dict[Any, Any]):
    """The Task SDK's outlet events: an asset is its own key, and an asset reference is looked up (``lookups``
    counts them), resolving to the asset Airflow knows with that URI; both are kept by (name, uri), as the SDK
    keeps them by their unique key (an Asset is not hashable before Airflow 3.2)."""

    def __init__(self, known: dict[str, Asset], error: str = "ASSET_NOT_FOUND") -> None:
        super().__init__()
        self.known, self.error = known, error
        self.lookups = 0

    def __getitem__(self, key: Any) -> Any:
        asset = key if isinstance(key, Asset) else self._look_up(key)
        unique = (asset.name, asset.uri)
        if unique not in self:
            self[unique] = type("Accessor", (), {"key": asset, "extra": {}})()
        return super().__getitem__(unique)

    def _look_up(self, ref: Any) -> Asset:
        from airflow.sdk.exceptions import ErrorType
        from airflow.sdk.execution_time.comms import ErrorResponse

        self.lookups += 1
        if ref.uri not in self.known:
            raise AirflowRuntimeError(ErrorResponse(error=ErrorType(self.error), detail={"uri": ref.uri}))
        return self.known[ref.uri]


@pytest.mark.parametrize(
    ("value", "names"),
    [
        (None, []),
        ("", []),
        ("Contact", ["Contact"]),
        ("Contact, Account", ["Contact", "Account"]),
        ('["Contact", "Account"]', ["Contact", "Account"]),
        (["Case"], ["Case"]),
        (["Contact", "Account,Case"], ["Contact", "Account", "Case"]),  # a list item rendered to a list
    ],
)
def test_entity_names_once_rendered(value: object, names: list[str]) -> None:
    assert rendered_names(value, "entities_written") == names


def test_an_entity_name_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError, match="entities_written must be a Creatio object name"):
        rendered_names(["Contact/1"], "entities_written")


@pytest.mark.parametrize(
    ("location", "uri"),
    [
        ("s3://aws_default@lake/contacts/", "s3://lake/contacts"),
        ("file:///data/contacts.jsonl", "file:///data/contacts.jsonl"),
        ("/data/contacts", "file:///data/contacts"),
    ],
)
def test_a_storage_location_as_an_asset_uri_names_no_connection(location: str, uri: str) -> None:
    assert storage_uri(location) == uri


def test_operators_declare_nothing_at_parse_time_beyond_what_the_user_gave() -> None:
    mine = Asset("s3://lake/contacts")
    writer = CreatioCreateEntityOperator(
        task_id="t", entity="Contact", data={}, outlets=[mine], inlets=[mine]
    )
    assert (writer.inlets, writer.outlets) == ([mine], [mine])
    reader = CreatioGetEntityOperator(task_id="g", entity="Contact", record_id="x")
    assert (reader.inlets, reader.outlets) == ([], [])
    process = CreatioRunProcessOperator(task_id="p", process_name="UsrSync", entities_written="Contact")
    assert (process.inlets, process.outlets) == ([], [])


def test_a_known_asset_gets_the_event_and_becomes_an_outlet() -> None:
    task = CreatioCreateEntityOperator(task_id="t", entity="Contact", data={})
    known = Asset(name="crm contacts", uri=CONTACT)  # named by the user: found by its URI all the same
    events = OutletEvents({CONTACT: known})

    assert task.emit_asset({"outlet_events": events}, CONTACT, {"records": 3})  # type: ignore[arg-type]
    (accessor,) = events.values()
    assert (accessor.key, accessor.extra) == (known, {"records": 3})
    assert task.outlets == [Asset.ref(uri=CONTACT)]


def test_an_outlet_the_user_declared_gets_the_extra_and_no_second_event() -> None:
    mine = Asset(name="crm contacts", uri=CONTACT)
    task = CreatioCreateEntityOperator(task_id="t", entity="Contact", data={}, outlets=[mine])
    events = OutletEvents({CONTACT: mine})

    assert task.emit_asset({"outlet_events": events}, CONTACT, {"records": 1})  # type: ignore[arg-type]
    assert task.outlets == [mine]
    assert [(accessor.key, accessor.extra) for accessor in events.values()] == [(mine, {"records": 1})]
    assert events.lookups == 0  # the task mentions it, so Airflow knows it: nothing to ask


def test_an_asset_no_dag_mentions_gets_no_event(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    task = CreatioCreateEntityOperator(task_id="t", entity="Contact", data={})
    events = OutletEvents({})

    with caplog.at_level("INFO"):
        assert not task.emit_asset({"outlet_events": events}, CONTACT, {"records": 1})  # type: ignore[arg-type]
    assert task.outlets == [] and not events
    logged = caplog.text + capsys.readouterr().out  # structlog (Airflow 3.1+) prints, logging (3.0) records
    assert f"no DAG mentions {CONTACT}" in logged


def test_another_lookup_failure_is_raised() -> None:
    task = CreatioCreateEntityOperator(task_id="t", entity="Contact", data={})
    events = OutletEvents({}, error="API_SERVER_ERROR")

    with pytest.raises(AirflowRuntimeError, match="API_SERVER_ERROR"):
        task.emit_asset({"outlet_events": events}, CONTACT, {"records": 1})  # type: ignore[arg-type]


def test_outside_the_task_runner_nothing_is_emitted() -> None:
    task = CreatioCreateEntityOperator(task_id="t", entity="Contact", data={})
    assert not task.emit_asset({}, CONTACT, {"records": 1})  # type: ignore[arg-type]
    assert task.outlets == []
