"""Write the documentation that is generated from the code, or check that it is up to date::

    .venv/bin/python scripts/generate_docs.py           # rewrite what is out of date
    .venv/bin/python scripts/generate_docs.py --check   # exit 1 and name the stale files (tests/unit/test_generated_docs.py)

Generated here, so that the pages cannot drift from what they describe:

* ``docs/guides/emulator.md``, between ``<!-- generated: NAME -->`` and ``<!-- end generated: NAME -->``: the
  connections for the standalone emulator (from its command line's defaults), its demo processes (from their
  definitions and ``demo_processes.ABOUT``) and its starting data (from a fresh emulator's store).
* ``docs/reference/*.md``, the same way: every operator, sensor, trigger and hook argument with its meaning and
  default, read from the docstrings (:mod:`reference_pages`). The built site renders the ``:::`` blocks instead.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # reference_pages, beside this script

from reference_pages import REFERENCE_PAGES, documented_modules, reference_section  # noqa: E402

from airflow_provider_creatio.testing.connection import connection_json, oauth_connection_json  # noqa: E402
from airflow_provider_creatio.testing.emulator.__main__ import parse_args  # noqa: E402
from airflow_provider_creatio.testing.emulator.demo_processes import ABOUT  # noqa: E402
from airflow_provider_creatio.testing.emulator.process_definitions import ProcessDefinition  # noqa: E402
from airflow_provider_creatio.testing.emulator.process_parameters import Parameter  # noqa: E402
from airflow_provider_creatio.testing.emulator.process_routes import engine_for  # noqa: E402
from airflow_provider_creatio.testing.emulator.state import EmulatorState  # noqa: E402
from airflow_provider_creatio.testing.emulator.store import EntityStore, Record  # noqa: E402

EMULATOR_GUIDE = REPO / "docs" / "guides" / "emulator.md"
# The column that names a record in the starting-data table, in order of preference.
LABEL_COLUMNS = ("Name", "Number", "Title")


def section_pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- generated: {re.escape(name)} -->\n).*?(<!-- end generated: {re.escape(name)} -->)", re.DOTALL
    )


def replace_section(text: str, name: str, body: str) -> str:
    """``text`` with the generated section ``name`` holding ``body``; a page that lacks the markers is an error."""
    pattern = section_pattern(name)
    if not pattern.search(text):
        raise SystemExit(f"no section {name!r}: the page needs <!-- generated: {name} --> ... its end marker")
    return pattern.sub(lambda match: match.group(1) + body + match.group(2), text)


# -- the emulator guide -------------------------------------------------------------------------------------------


def emulator_connections() -> str:
    """``AIRFLOW_CONN_CREATIO_DEFAULT`` for the emulator started with its defaults, each layout and each login."""
    args = parse_args([])
    url = f"http://{args.host}:{args.port}"
    identity = f"http://{args.host}:{args.port + 1}"
    blocks = []
    for title, flag, net_core in (
        (".NET Framework layout (the default)", "", False),
        (".NET Core layout", " --net-core", True),
    ):
        forms = connection_json(url, args.username, args.password, net_core=net_core)
        oauth = oauth_connection_json(url, identity, args.client_id, args.client_secret, net_core=net_core)
        start = f"python -m airflow_provider_creatio.testing.emulator --port {args.port}{flag}"
        blocks.append(
            f"{title}: `{start}`, then the user and password (forms login) or the OAuth client (client "
            "credentials, through the emulator's identity server):\n\n"
            f"```bash\n{_export(forms)}\n# or\n{_export(oauth)}\n```\n"
        )
    return "\n".join(blocks)


def _export(connection: str) -> str:
    pretty = json.dumps(json.loads(connection), indent=2)
    return f"export AIRFLOW_CONN_CREATIO_DEFAULT='{pretty}'"


def demo_processes_table() -> str:
    lines = [
        "| Process | Inputs (default) | Outputs | What it does | Runs | Fails |",
        "|---|---|---|---|---|---|",
    ]
    for definition in sorted(_fresh_emulator()[0], key=lambda each: each.name):
        about = ABOUT[definition.name]
        cells = [
            f"`{definition.name}`",
            _parameters(definition.inputs, defaults=True),
            _parameters(definition.outputs, defaults=False),
            about.does,
            about.runs,
            _fails(definition, about.fails),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _parameters(parameters: Iterable[Parameter], *, defaults: bool) -> str:
    shown = []
    for parameter in parameters:
        text = f"`{parameter.name}` {parameter.type}"
        if defaults and parameter.default is not None:
            text += f" (`{json.dumps(parameter.default)}`)"
        shown.append(text)
    return ", ".join(shown) or "none"


def _fails(definition: ProcessDefinition, fails: str) -> str:
    if definition.error_description:
        return f"always, with ErrorDescription `{definition.error_description}`"
    return fails


def starting_data_table() -> str:
    store = _fresh_emulator()[1]
    lines = ["| Entity | Records at start | Columns |", "|---|---|---|"]
    for entity in sorted(store.entity_names()):
        schema = store.schema(entity)
        columns = ", ".join(
            [
                f"`{name}` (lookup to {column.ref})" if column.kind == "lookup" else f"`{name}`"
                for name, column in schema.columns.items()
            ]
            + [f"`{name}` (stream)" for name in schema.media]
        )
        records = "<br>".join(_record_label(record) for record in store.rows(entity)) or "none"
        lines.append(f"| `{entity}` | {records} | {columns} |")
    return "\n".join(lines) + "\n"


def _record_label(record: Record) -> str:
    label = next((record[column] for column in LABEL_COLUMNS if record.get(column)), "")
    return f"{label} `{record['Id']}`".strip()


@functools.cache
def _fresh_emulator() -> tuple[list[ProcessDefinition], EntityStore]:
    """The demo processes and the store of an emulator as it starts."""
    state = EmulatorState()
    return engine_for(state).definitions(), state.store


def emulator_guide(text: str) -> str:
    text = replace_section(text, "emulator-connections", emulator_connections())
    text = replace_section(text, "demo-processes", demo_processes_table())
    return replace_section(text, "starting-data", starting_data_table())


# -- every generated page -----------------------------------------------------------------------------------------


def generated_pages() -> dict[Path, str]:
    """Every generated page, as it should read."""
    pages = {EMULATOR_GUIDE: emulator_guide(EMULATOR_GUIDE.read_text(encoding="utf-8"))}
    for path in REFERENCE_PAGES:
        text = (REPO / path).read_text(encoding="utf-8")
        pages[REPO / path] = replace_section(text, "reference", reference_section(documented_modules(text)))
    return pages


def stale_pages() -> list[Path]:
    return [path for path, text in generated_pages().items() if path.read_text(encoding="utf-8") != text]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a page is out of date"
    )
    check = parser.parse_args().check
    stale = stale_pages()
    if check:
        for path in stale:
            print(f"{path.relative_to(REPO)} is out of date: run {Path(__file__).relative_to(REPO)}")
        return 1 if stale else 0
    for path, text in generated_pages().items():
        if path in stale:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
