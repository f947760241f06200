"""The pages generated from the code (scripts/generate_docs.py) are up to date: the emulator guide's connections,
demo processes and starting data, and the reference pages' arguments read from the docstrings."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def load_script(name: str) -> ModuleType:
    sys.path.insert(0, str(SCRIPTS))  # the scripts import each other as siblings
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate_docs = load_script("generate_docs")
PAGES = generate_docs.generated_pages()


@pytest.mark.parametrize("page", sorted(PAGES), ids=lambda page: page.name)
def test_the_generated_page_is_up_to_date(page: Path) -> None:
    assert page.read_text(encoding="utf-8") == PAGES[page], (
        f"{page.relative_to(generate_docs.REPO)} is out of date: run `.venv/bin/python scripts/generate_docs.py`"
    )


def test_every_demo_process_is_described() -> None:
    from airflow_provider_creatio.testing.emulator.demo_processes import ABOUT, DEMO_PROCESSES

    assert set(ABOUT) == set(DEMO_PROCESSES)


def test_an_argument_without_a_param_field_is_refused() -> None:
    reference_pages = load_script("reference_pages")

    class Undocumented:
        """No fields."""

        def __init__(self, *, colour: str = "red") -> None:
            self.colour = colour

    Undocumented.__module__ = "airflow_provider_creatio.example"
    with pytest.raises(SystemExit, match="colour"):
        list(reference_pages.argument_rows(Undocumented))


def test_the_built_site_renders_the_mkdocstrings_blocks_instead() -> None:
    hooks = load_script("mkdocs_hooks")
    page = (generate_docs.REPO / "docs/reference/sensors.md").read_text(encoding="utf-8")
    built = hooks.on_page_markdown(page)
    assert (
        "::: airflow_provider_creatio.sensors.process\n\n::: airflow_provider_creatio.sensors.entity" in built
    )
    assert "| Argument |" not in built
    assert "mkdocstrings" not in built
