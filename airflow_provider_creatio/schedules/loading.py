"""Reading a schedule file, YAML or JSON, into validated :class:`ProcessSchedule` entries.

A file is validated as a whole, when the DAG file is parsed. Any mistake (unknown key, bad date, bad or inexact
Quartz expression, end before start, a window in which the Quartz expression never fires, bad Y/N, negative
``retryCount``, duplicate ``dag_id`` or YAML/JSON key) raises :class:`ScheduleFileError`, naming the file, the
entry (1-based index and name) and the field, so Airflow shows an import error instead of a DAG that would do
something else. :mod:`airflow_provider_creatio.schedules.validation` checks each entry; this module reads the
file, refuses a key repeated in one YAML mapping or JSON object, and a ``dag_id`` used by two entries.
"""

from __future__ import annotations

import json
import os
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from airflow_provider_creatio.schedules.entry import ProcessSchedule
from airflow_provider_creatio.schedules.errors import ScheduleFileError
from airflow_provider_creatio.schedules.validation import EntryReader

_YAML_MERGE_TAG = "tag:yaml.org,2002:merge"


def load_schedule_file(path: str | os.PathLike[str]) -> list[ProcessSchedule]:
    """The validated entries of a YAML (``.yaml``/``.yml``) or JSON (``.json``) schedule file.

    The file holds a list of entries (an empty file means no schedule). Raises :class:`ScheduleFileError`.
    """
    where = str(path)
    document = _read_document(Path(path), where)
    if document is None:
        return []
    if not isinstance(document, list):
        raise ScheduleFileError(
            where, f"the file must hold a list of schedule entries, not a {type(document).__name__}"
        )
    schedules: list[ProcessSchedule] = []
    first_entry_of: dict[str, int] = {}
    for index, raw in enumerate(document, start=1):
        schedule = EntryReader(where, index, raw).read()
        if schedule.dag_id in first_entry_of:
            raise ScheduleFileError(
                where,
                f"dag_id {schedule.dag_id!r} is already used by entry {first_entry_of[schedule.dag_id]}; "
                "give each entry its own dag_id",
                index=index,
                entry_name=schedule.process_name,
                field="dag_id",
            )
        first_entry_of[schedule.dag_id] = index
        schedules.append(schedule)
    return schedules


class _StrictYamlLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key repeated in one mapping is an error instead of last-one-wins."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Hashable] = set()
        for key_node, _ in node.value:
            if key_node.tag == _YAML_MERGE_TAG:
                continue  # "<<: *defaults" merges keys that the entry may override; that is not a repeat
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # the base class reports unhashable keys
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"found the key {key!r} twice",
                    key_node.start_mark,
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _read_document(path: Path, where: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ScheduleFileError(where, f"cannot read it: {err}") from err
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            return (
                json.loads(text, object_pairs_hook=_json_object_without_duplicates) if text.strip() else None
            )
        if suffix in (".yaml", ".yml"):
            return yaml.load(text, Loader=_StrictYamlLoader)  # noqa: S506 - a SafeLoader subclass
    except (ValueError, yaml.YAMLError) as err:
        raise ScheduleFileError(where, f"not valid {suffix[1:].upper()}: {err}") from err
    raise ScheduleFileError(where, "the file name must end in .yaml, .yml or .json")


def _json_object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"found the key {key!r} twice in one object")
        result[key] = value
    return result
