"""Hints where the user went wrong, against the emulator: Creatio's refusal of a misspelt column gets the column
check's "did you mean", and a path refused for the wrong URL layout names the layout the site answers and the
connection's net_core field."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from airflow_provider_creatio.client import odata
from airflow_provider_creatio.client.aio import AsyncCreatioClient
from airflow_provider_creatio.client.errors import CreatioBadRequestError, CreatioNotFoundError
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.operators.entity import CreatioQueryEntitiesOperator
from airflow_provider_creatio.operators.process import CreatioRunProcessOperator
from airflow_provider_creatio.testing.connection import connection_env_name, emulator_connection_json

WRONG_LAYOUT_HINT = (
    "This site answers the .NET Framework layout (/0/odata, /0/ServiceModel), not the .NET Core one the "
    "connection asks for: set the connection's net_core field to false."
)


def metadata_reads(emulator: Any) -> list[int]:
    """The positions of the $metadata reads in the emulator's request log."""
    return [index for index, request in enumerate(emulator.requests) if request.path.endswith("/$metadata")]


def query(**arguments: Any) -> Any:
    return CreatioQueryEntitiesOperator(task_id="query", **arguments).execute(context={})


def test_a_misspelt_filter_column_gets_the_suggestion_of_the_column_check(creatio_connection: Any) -> None:
    with pytest.raises(CreatioBadRequestError) as refused:
        query(entity="Contact", filter={"Emial": "ada@example.com"})

    message = str(refused.value)
    assert "Creatio says: Column by path Emial not found in schema Contact." in message
    assert message.endswith("Did you mean 'Email'?")
    reads = metadata_reads(creatio_connection)
    assert len(reads) == 1, "the schema is read once"
    refusal = next(i for i, r in enumerate(creatio_connection.requests) if r.path.endswith("/Contact"))
    assert reads[0] > refusal, "and only after Creatio refused the query"


def test_a_lookup_id_in_a_filter_gets_its_navigation_path(creatio_connection: Any) -> None:
    with pytest.raises(CreatioBadRequestError, match=r"Did you mean 'Status/Id'\?$"):
        query(entity="Case", filter={"StatusId": "ae5f2f10-f46b-1410-fd9a-0050ba5d6c38"})


def test_a_query_that_succeeds_reads_no_schema(creatio_connection: Any) -> None:
    assert query(entity="Contact", filter={"Email": "test@gmail"}, select=["Name"])
    assert metadata_reads(creatio_connection) == []


def test_a_name_with_nothing_close_gets_no_hint(creatio_connection: Any) -> None:
    with pytest.raises(CreatioBadRequestError) as refused:
        query(entity="Contact", filter={"Qqqqqqqqqq": "x"})
    assert str(refused.value).endswith("Column by path Qqqqqqqqqq not found in schema Contact.")


@pytest.fixture
def net_core_connection(creatio_connection: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A connection that asks for the .NET Core layout of the emulator's .NET Framework site."""
    assert not creatio_connection.settings.net_core
    wrong = emulator_connection_json(creatio_connection, net_core=True, backoff_initial=0.01)
    monkeypatch.setenv(connection_env_name("creatio_default"), wrong)
    return creatio_connection


def test_an_odata_path_of_the_wrong_layout_names_the_layout_and_the_field(net_core_connection: Any) -> None:
    with pytest.raises(CreatioNotFoundError) as refused:
        query(entity="Contact", select=["Name"])

    message = str(refused.value)
    assert "No HTTP resource was found" in message  # Creatio's words stay
    assert message.endswith(WRONG_LAYOUT_HINT)
    probes = [r for r in net_core_connection.requests if r.path == "/0/odata/Contact" and r.query == "$top=0"]
    assert len(probes) == 1


def test_a_service_path_of_the_wrong_layout_names_the_layout_and_the_field(net_core_connection: Any) -> None:
    start = CreatioRunProcessOperator(
        task_id="start", process_name="UsrFullNameProcess", parameters={"UserName": "Ada"}, method="run"
    )
    with pytest.raises(CreatioNotFoundError) as refused:
        start.execute(context={})
    assert str(refused.value).endswith(WRONG_LAYOUT_HINT)


def test_an_unknown_entity_on_the_right_layout_gets_no_layout_hint(creatio_connection: Any) -> None:
    with CreatioHook() as hook, pytest.raises(CreatioNotFoundError) as refused:
        hook.query_page("Contactt")
    assert "net_core" not in str(refused.value)


async def test_the_async_client_of_the_triggers_gives_the_same_hints(net_core_connection: Any) -> None:
    with CreatioHook() as hook:
        config = hook.config  # the wrong layout, as the connection says
    async with AsyncCreatioClient(config) as client:
        with pytest.raises(CreatioNotFoundError) as refused:
            await client.execute(odata.query_records("Contact", filter={"Emial": "x"}))
    assert str(refused.value).endswith(WRONG_LAYOUT_HINT)
    async with AsyncCreatioClient(replace(config, net_core=False)) as client:
        with pytest.raises(CreatioBadRequestError, match=r"Did you mean 'Email'\?$"):
            await client.execute(odata.query_records("Contact", filter={"Emial": "x"}))
