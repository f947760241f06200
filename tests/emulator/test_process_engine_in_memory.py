"""The process engine without HTTP: parameter conversion (pure functions) and the engine on a real EntityStore."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from airflow_provider_creatio.testing.emulator.process_definitions import (
    ProcessContext,
    ProcessDefinition,
    UnknownProcessError,
    WaitingElement,
)
from airflow_provider_creatio.testing.emulator.process_engine import ProcessEngine
from airflow_provider_creatio.testing.emulator.process_log import ELEMENT_LOG, PROCESS_LOG, ProcessStatus
from airflow_provider_creatio.testing.emulator.process_parameters import (
    Parameter,
    ParameterValueError,
    convert_input,
    wire_value,
)
from airflow_provider_creatio.testing.emulator.process_routes import execute_body
from airflow_provider_creatio.testing.emulator.store import EntityStore


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("text", "15", "15"),
        ("text", 5, "5"),
        ("int", "15", 15),
        ("int", " -3 ", -3),
        ("int", 7, 7),
        ("float", "1.5", 1.5),
        ("float", 2, 2.0),
        ("bool", "True", True),
        ("bool", "false", False),
        ("bool", True, True),
        ("datetime", "2024-01-01T10:00:00+02:00", "2024-01-01T08:00:00Z"),
        ("guid", "C38D46FD-E405-491A-A508-01BB9760EECC", "c38d46fd-e405-491a-a508-01bb9760eecc"),
        ("collection", '[{"Id": "1"}]', [{"Id": "1"}]),
        ("collection", [1, 2], [1, 2]),
    ],
)
def test_convert_input_reads_strings_and_json_values(kind: Any, value: Any, expected: Any) -> None:
    assert convert_input(Parameter("P", kind), value) == expected


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("int", "1.5"),
        ("int", ""),
        ("int", True),
        ("float", "abc"),
        ("float", "nan"),
        ("bool", "1"),
        ("datetime", "yesterday"),
        ("guid", "15"),
        ("collection", "{}"),
        ("collection", "[1,"),
    ],
)
def test_convert_input_rejects_values_that_do_not_fit(kind: Any, value: Any) -> None:
    with pytest.raises(ParameterValueError, match="parameter P"):
        convert_input(Parameter("P", kind), value)


def test_wire_value_writes_collections_as_json_text_and_normalizes_dates() -> None:
    assert wire_value(Parameter("C", "collection"), [{"Id": "1"}]) == '[{"Id":"1"}]'
    assert wire_value(Parameter("D", "datetime"), "2024-01-01T10:00:00+02:00") == "2024-01-01T08:00:00Z"
    assert wire_value(Parameter("N", "int"), None) is None
    assert wire_value(None, "anything") == "anything"


def test_execute_body_is_escaped_json_in_the_serialization_string() -> None:
    body = execute_body('[{"Name":"A&B"}]')

    assert body == (
        '<string xmlns="http://schemas.microsoft.com/2003/10/Serialization/">'
        '"[{\\"Name\\":\\"A&amp;B\\"}]"</string>'
    )
    assert execute_body(None).endswith(">null</string>")


def test_definitions_reject_unusable_declarations() -> None:
    with pytest.raises(ValueError, match="parameter type"):
        Parameter("P", "money")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="duration"):
        ProcessDefinition("P", duration=-1)


@pytest.fixture
def engine() -> ProcessEngine:
    return ProcessEngine(EntityStore())


def test_starting_an_unknown_process_starts_nothing(engine: ProcessEngine) -> None:
    with pytest.raises(UnknownProcessError, match='"Nope"'):
        engine.start("Nope", {})

    assert engine.store.rows(PROCESS_LOG) == []
    assert engine.start_count("Nope") == 0


def test_missing_inputs_take_their_default_and_unknown_ones_are_ignored(engine: ProcessEngine) -> None:
    engine.define(
        "Echo",
        lambda ctx: {"Seen": json.dumps(dict(ctx.inputs))},
        inputs=[Parameter("A", "int", 4), Parameter("B")],
        outputs=[Parameter("Seen")],
    )

    instance = engine.start("Echo", {"B": "x", "Other": "ignored"})

    assert instance.wait(5)
    assert json.loads(instance.outputs["Seen"]) == {"A": 4, "B": "x"}


def test_setting_an_undeclared_output_fails_the_process(engine: ProcessEngine) -> None:
    engine.define("Sloppy", lambda ctx: {"Undeclared": 1})

    instance = engine.start("Sloppy", {})

    assert instance.wait(5)
    assert instance.status is ProcessStatus.ERROR
    assert instance.error_description == 'Parameter "Undeclared" not found in process "Sloppy".'


def test_a_body_can_wait_on_elements_of_its_own(engine: ProcessEngine) -> None:
    def two_steps(ctx: ProcessContext) -> None:
        ctx.set_output("Step", "first")
        ctx.wait_for("Review", "Review the draft")
        ctx.set_output("Step", "second")

    engine.define("TwoSteps", two_steps, outputs=[Parameter("Step")])
    instance = engine.start("TwoSteps", {})
    assert instance.wait_until_paused(5)
    assert instance.outputs == {"Step": "first"}

    (uid,) = instance.waiting_elements
    assert engine.execute_element(uid) is instance
    assert engine.execute_element(uid) is None

    assert instance.wait(5)
    assert instance.outputs == {"Step": "second"}
    assert engine.store.get(ELEMENT_LOG, uid)["Caption"] == "Review the draft"  # type: ignore[index]


async def test_settle_stops_at_sleeps_only_for_runs_that_do_not_wait_for_results(
    engine: ProcessEngine,
) -> None:
    engine.define("Nap", duration=60, waiting_elements=[WaitingElement("Go")])
    instance = engine.start("Nap", {})

    await asyncio.wait_for(instance.settle(through_sleeps=True), 5)
    assert instance.waiting_elements != []

    engine.execute_element(instance.waiting_elements[0])
    await asyncio.wait_for(instance.settle(through_sleeps=False), 5)
    assert instance.status is ProcessStatus.RUNNING

    assert engine.cancel(instance.id) is True
    assert engine.cancel(instance.id) is False
    await asyncio.wait_for(instance.settle(through_sleeps=True), 5)
    assert instance.status is ProcessStatus.CANCELED


def test_reset_installs_the_log_entities_again_after_the_store_was_cleared(engine: ProcessEngine) -> None:
    engine.define("Quick")
    engine.start("Quick", {}).wait(5)

    engine.store.clear()
    engine.reset()

    assert len(engine.store.rows("SysProcessStatus")) == 6
    assert engine.store.rows(PROCESS_LOG) == []
    assert [row["Name"] for row in engine.store.rows("SysSchema")] == ["Quick"]
    assert engine.start_count("Quick") == 0
