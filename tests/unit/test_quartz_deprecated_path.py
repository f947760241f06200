"""``airflow_provider_creatio.quartz`` (deprecated) warns, and its names are the new module's objects."""

from __future__ import annotations

import sys

import pytest

from airflow_provider_creatio.schedules import quartz


def test_old_quartz_module_warns_and_reexports_the_new_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # Removed so that the import below runs the module again: its warning comes only from a first import.
    monkeypatch.delitem(sys.modules, "airflow_provider_creatio.quartz", raising=False)
    moved = r"airflow_provider_creatio\.quartz is deprecated: use airflow_provider_creatio\.schedules\.quartz"
    with pytest.warns(DeprecationWarning, match=moved) as warned:
        import airflow_provider_creatio.quartz as old

    assert [warning.filename for warning in warned] == [__file__]  # the importing line, not the alias
    defined_in_new = {
        name
        for name, value in vars(quartz).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == quartz.__name__
    }
    assert set(old.__all__) == defined_in_new
    for name in old.__all__:
        assert getattr(old, name) is getattr(quartz, name)
