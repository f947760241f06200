"""Construction-time behaviour of the entity operators, sensor and trigger (no server involved)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest

from airflow_provider_creatio.client.errors import CreatioValidationError
from airflow_provider_creatio.operators.entity import CreatioBulkEntityOperator, CreatioQueryEntitiesOperator
from airflow_provider_creatio.sensors.entity import CreatioEntitySensor
from airflow_provider_creatio.templated import as_filter, as_mapping, as_records
from airflow_provider_creatio.triggers.entity import CreatioEntityTrigger

CASE_ID = "0a7f5a5e-5d0b-4b0e-9c8b-2f1e0c6b1a01"


def test_importing_the_entity_modules_loads_no_http_library_and_no_client_transport() -> None:
    code = textwrap.dedent(
        """
        import sys
        import airflow_provider_creatio._compat  # Airflow itself (the Task SDK loads httpx on its own)
        before = set(sys.modules)
        import airflow_provider_creatio.operators.entity
        import airflow_provider_creatio.sensors.entity
        import airflow_provider_creatio.triggers.entity
        new = set(sys.modules) - before
        heavy = sorted(m for m in new if m.split(".")[0] in ("requests", "httpx", "urllib3", "tenacity")
                       or m.endswith((".transport", ".aio", ".odata", ".batch", ".records", ".paging",
                                     ".bulk", ".watch", ".schema", ".columns")))
        print(",".join(heavy))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_data_arguments_accept_mappings_and_json_text() -> None:
    assert as_mapping({"Name": "x"}, "data") == {"Name": "x"}
    assert as_mapping('{"Name": "x"}', "data") == {"Name": "x"}
    assert as_records('[{"Id": "1"}]') == [{"Id": "1"}]
    assert as_records(({"Id": "1"},)) == [{"Id": "1"}]
    with pytest.raises(CreatioValidationError, match="not JSON"):
        as_mapping("Name=x", "data")
    with pytest.raises(CreatioValidationError, match="must be a list"):
        as_records({"Id": "1"})


def test_a_string_filter_stays_raw_unless_it_is_rendered_json_of_a_mapping() -> None:
    assert as_filter("Name eq 'x'") == "Name eq 'x'"
    assert as_filter('{"Name": "x"}') == {"Name": "x"}
    assert as_filter(None) is None
    with pytest.raises(CreatioValidationError):
        as_filter(42)


def test_bulk_operator_refuses_an_unknown_operation_early() -> None:
    with pytest.raises(ValueError, match="create, update, upsert, delete"):
        CreatioBulkEntityOperator(task_id="b", entity="Contact", operation="merge", records=[])
    templated = CreatioBulkEntityOperator(
        task_id="t", entity="Contact", operation="{{ params.op }}", records="{{ ti.xcom_pull('x') }}"
    )
    assert "records" in templated.template_fields


def test_load_operator_refuses_an_unknown_operation_early_and_templates_its_source() -> None:
    from airflow_provider_creatio.transfers.object_storage_to_creatio import ObjectStorageToCreatioOperator

    with pytest.raises(ValueError, match="create, update, upsert, delete"):
        ObjectStorageToCreatioOperator(task_id="l", entity="Contact", operation="merge", source="/in.csv")
    with pytest.raises(ValueError, match="batch_size must be 1 to 100, got 0"):
        ObjectStorageToCreatioOperator(
            task_id="l", entity="Contact", operation="create", source="/in.csv", batch_size=0
        )
    templated = ObjectStorageToCreatioOperator(
        task_id="t", entity="Contact", operation="{{ params.op }}", source="s3://lake/{{ ds }}/"
    )
    assert {"entity", "operation", "source", "format"} <= set(templated.template_fields)
    assert templated.check_columns  # on by default, as for the bulk operator


def test_query_limit_combines_top_and_the_max_records_guard() -> None:
    def limit(**kwargs: object) -> int | None:
        return CreatioQueryEntitiesOperator(task_id="q", entity="Contact", **kwargs)._limit()  # type: ignore[arg-type]

    assert limit() is None
    assert limit(top=10) == 10
    assert limit(max_records=10) == 11  # one more, to notice an overflow
    assert limit(top=5, max_records=10) == 5


def test_sensor_refuses_a_predicate_in_deferrable_mode() -> None:
    with pytest.raises(ValueError, match="cannot be serialized"):
        CreatioEntitySensor(
            task_id="s", entity="Case", record_id=CASE_ID, predicate=lambda r: True, deferrable=True
        )
    sensor = CreatioEntitySensor(
        task_id="s", entity="Case", record_id=CASE_ID, predicate=lambda r: True, deferrable=False
    )
    assert sensor.predicate is not None


def test_the_sensors_old_condition_keyword_still_works_with_a_warning() -> None:
    def predicate(record: dict[str, Any]) -> bool:
        return True

    with pytest.warns(
        DeprecationWarning, match=r"CreatioEntitySensor\(condition=\.\.\.\) is deprecated: use predicate"
    ):
        sensor = CreatioEntitySensor(
            task_id="s", entity="Case", record_id=CASE_ID, condition=predicate, deferrable=False
        )
    assert sensor.predicate is predicate


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "give one"),
        ({"record_id": CASE_ID, "filter": "Subject eq 'x'"}, "give one"),
        ({"record_id": CASE_ID}, "needs success_values or a predicate"),
        ({"record_id": CASE_ID, "condition": "Status eq 1"}, "must be a callable"),
    ],
)
def test_sensor_argument_checks(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CreatioEntitySensor(task_id="s", entity="Case", deferrable=False, **kwargs)  # type: ignore[arg-type]


def test_trigger_serializes_to_plain_json_and_back() -> None:
    import json

    trigger = CreatioEntityTrigger(
        creatio_conn_id="creatio_default",
        watch={"entity": "Case", "record_id": CASE_ID, "top": 1},
        success_values={"Status/Id": ["a"]},
        failure_values={},
        poll_interval=2,
        hook_params={"retry_attempts": 2},
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_creatio.triggers.entity.CreatioEntityTrigger"
    assert json.loads(json.dumps(kwargs)) == kwargs
    rebuilt = CreatioEntityTrigger(**kwargs)
    assert rebuilt.serialize() == (classpath, kwargs)
