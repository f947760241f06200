"""The install path of the docs as make smoke-wheel runs it (scripts/smoke_wheel.py): the steps it finds in
docs/getting-started.md, and the README's install commands, which must be the page's."""

from __future__ import annotations

import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import smoke_wheel  # noqa: E402

STEPS = smoke_wheel.documented_steps(smoke_wheel.PAGE.read_text(encoding="utf-8"))


def test_the_page_installs_migrates_starts_the_emulator_saves_a_dag_and_tests_it() -> None:
    kinds = [step.kind for step in STEPS]
    assert kinds == ["run", "run", "background", "run", "file", "run"]
    assert "airflow db migrate" in STEPS[1].body
    assert STEPS[-1].body == "airflow dags test creatio_first_steps"
    assert "def creatio_first_steps" in STEPS[4].body


def test_the_emulator_ports_become_free_ones_and_nothing_else_changes() -> None:
    script = smoke_wheel.smoke_script(STEPS, 40000)
    assert "8765" not in script and "8766" not in script
    assert "--port 40000" in script
    for step in STEPS:  # every block, verbatim
        assert step.body.replace("8765", "40000").replace("8766", "40001") in script


def test_the_readme_installs_with_the_commands_of_the_page() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    install = re.search(r"## Install\n.*?```bash\n(?P<block>.*?)```", readme, re.DOTALL)
    assert install is not None
    page_lines = {line for step in STEPS for line in step.body.splitlines()}
    assert set(install.group("block").splitlines()) <= page_lines
