"""What the operators declare for lineage at parse time, and how entity arguments read (no server involved)."""

from __future__ import annotations

import pytest

from airflow_provider_creatio._compat import Asset, AssetAlias
from airflow_provider_creatio.operators.entity import (
    CreatioCreateEntityOperator,
    CreatioGetEntityOperator,
    CreatioQueryEntitiesOperator,
)
from airflow_provider_creatio.operators.lineage import (
    pair_with_aliases,
    parse_time_names,
    rendered_names,
    storage_uri,
)
from airflow_provider_creatio.operators.process import CreatioRunProcessOperator
from airflow_provider_creatio.transfers.object_storage_to_creatio import ObjectStorageToCreatioOperator

CONTACT = AssetAlias("creatio:crm:Contact")


@pytest.mark.parametrize(
    ("value", "names"),
    [
        (None, []),
        ("", []),
        ("Contact", ["Contact"]),
        ("Contact, Account", ["Contact", "Account"]),
        (["Contact", "{{ params.x }}"], ["Contact", "{{ params.x }}"]),
        ("{{ params.entities }}", ["{{ params.entities }}"]),  # one alias for whatever it renders to
    ],
)
def test_entity_names_before_rendering(value: object, names: list[str]) -> None:
    assert parse_time_names(value) == names


def test_entity_names_once_rendered() -> None:
    assert rendered_names('["Contact", "Account"]', "entities_written") == ["Contact", "Account"]
    assert rendered_names("Contact,Account", "entities_written") == ["Contact", "Account"]
    assert rendered_names(["Case"], "entities_written") == ["Case"]
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


def test_a_writer_adds_its_alias_after_the_users_outlets() -> None:
    mine = Asset("s3://lake/contacts")
    task = CreatioCreateEntityOperator(
        task_id="t", entity="Contact", data={}, creatio_conn_id="crm", outlets=[mine], inlets=[mine]
    )
    assert (task.inlets, task.outlets) == ([mine], [mine, CONTACT])
    assert task.entity_alias == CONTACT


def test_a_reader_declares_an_inlet_and_no_outlet() -> None:
    task = CreatioGetEntityOperator(task_id="t", entity="Contact", record_id="x", creatio_conn_id="crm")
    assert (task.inlets, task.outlets) == ([CONTACT], [])
    query = CreatioQueryEntitiesOperator(
        task_id="q", entity="Contact", creatio_conn_id="crm", output_path="s3://lake/{{ ds }}/c.jsonl"
    )
    assert (query.inlets, query.outlets) == (
        [CONTACT],
        [AssetAlias("creatio-files:s3://lake/{{ ds }}/c.jsonl")],
    )


def test_an_alias_given_by_the_user_is_not_declared_twice() -> None:
    task = ObjectStorageToCreatioOperator(
        task_id="t",
        entity="Contact",
        source="s3://lake/in",
        operation="upsert",
        creatio_conn_id="crm",
        outlets=[CONTACT],
    )
    assert task.outlets == [CONTACT]


def test_a_process_declares_what_it_reads_and_writes() -> None:
    task = CreatioRunProcessOperator(
        task_id="p",
        process_name="UsrSync",
        entities_read="Account",
        entities_written=["Contact", "{{ params.entity }}"],
        creatio_conn_id="crm",
    )
    assert task.inlets == [AssetAlias("creatio:crm:Account")]
    assert task.outlets == [CONTACT, AssetAlias("creatio:crm:{{ params.entity }}")]
    assert CreatioRunProcessOperator(task_id="q", process_name="UsrSync").outlets == []


@pytest.mark.parametrize(
    ("declared", "rendered", "pairs"),
    [
        ("Contact", "Contact", [("Contact", "Contact")]),
        ("Contact,Account", "Contact,Account", [("Contact", "Contact"), ("Account", "Account")]),
        (
            ["Contact", "{{ x }}"],
            ["Contact", "Account,Case"],
            [("Contact", "Contact"), ("{{ x }}", "Account"), ("{{ x }}", "Case")],
        ),
        ("{{ x }}", '["Account", "Case"]', [("{{ x }}", "Account"), ("{{ x }}", "Case")]),
        ("{{ x }}", ["Account", "Case"], [("{{ x }}", "Account"), ("{{ x }}", "Case")]),  # native rendering
        (None, None, []),
    ],
)
def test_each_written_entity_goes_through_the_alias_declared_for_it(
    declared: object, rendered: object, pairs: list[tuple[str, str]]
) -> None:
    aliases = [AssetAlias(f"creatio:crm:{name}") for name in parse_time_names(declared)]
    found = pair_with_aliases(rendered, aliases, "entities_written")
    assert [(alias.name.removeprefix("creatio:crm:"), name) for alias, name in found] == pairs
