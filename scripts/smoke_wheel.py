"""The installed wheel as a user gets it (``make smoke-wheel``), run by the python of a fresh virtual environment
that holds the wheel and nothing of the source tree::

    <fresh venv>/bin/python scripts/smoke_wheel.py EXAMPLE_DAGS_FOLDER

Checks that the package is imported from that environment's site-packages and not installed editable, that
``airflow providers list`` shows the provider at its version (the one ``get_provider_info()`` reports), that the
emulator starts from the installed package (``python -m airflow_provider_creatio.testing.emulator``), and that
one example DAG, which runs three processes and passes their outputs on, succeeds end to end against it with
``dag.test()``. Prints how long each step took.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "airflow-provider-creatio"
EXAMPLE_DAG = "example_creatio_process_results"
BIN = Path(sys.executable).parent
SERVING = re.compile(r"Creatio emulator serving at (\S+)")

# Airflow reads its configuration when it is first imported: a home of its own, set before anything imports it,
# inside the fresh environment so that it goes when the environment does.
HOME = Path(sys.prefix) / "airflow-home"
os.environ["AIRFLOW_HOME"] = str(HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"  # the steps print what they found


def step(name: str, action: Callable[[], str]) -> None:
    started = time.monotonic()
    outcome = action()
    print(f"ok  {name} ({time.monotonic() - started:.1f} s): {outcome}", flush=True)


def installed_from_the_wheel() -> str:
    import airflow_provider_creatio

    module_file = Path(airflow_provider_creatio.__file__).resolve()
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    if site_packages not in module_file.parents:
        sys.exit(f"airflow_provider_creatio comes from {module_file}, not from {site_packages}")
    direct_url = metadata.distribution(DISTRIBUTION).read_text("direct_url.json") or "{}"
    if json.loads(direct_url).get("dir_info", {}).get("editable"):
        sys.exit(f"{DISTRIBUTION} is installed editable")
    return f"{DISTRIBUTION} {metadata.version(DISTRIBUTION)} from {site_packages}"


def provider_is_listed() -> str:
    listed = subprocess.run(
        [str(BIN / "airflow"), "providers", "list", "--output", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    providers = {entry["package_name"]: entry["version"] for entry in json.loads(listed.stdout)}
    expected = metadata.version(DISTRIBUTION)
    from airflow_provider_creatio.get_provider_info import get_provider_info

    if get_provider_info()["versions"] != [expected]:
        sys.exit(f"get_provider_info() reports {get_provider_info()['versions']}, the wheel is {expected}")
    if providers.get(DISTRIBUTION) != expected:
        sys.exit(
            f"airflow providers list shows {providers.get(DISTRIBUTION)!r}, not {expected}:\n{listed.stdout}"
        )
    return f"{DISTRIBUTION} {expected} among {len(providers)} providers"


@contextmanager
def emulator_from_the_package() -> Iterator[str]:
    """The emulator's command line, from the installed package; yields the site's URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_creatio.testing.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        serving = SERVING.search(first_line)
        if serving is None:
            sys.exit(f"the emulator did not start: {first_line!r}")
        yield serving.group(1)
    finally:
        process.terminate()
        process.wait(timeout=30)


def migrate_database() -> str:
    subprocess.run([str(BIN / "airflow"), "db", "migrate"], capture_output=True, check=True)
    return f"SQLite in {HOME}"


def run_example(dags_folder: Path, emulator_url: str) -> str:
    from airflow_provider_creatio.testing.connection import connection_env_name, connection_json
    from airflow_provider_creatio.testing.dagrun import run_dag

    # connection_json's default user is the one the emulator's command line serves.
    os.environ[connection_env_name("creatio_default")] = connection_json(emulator_url)
    result = run_dag(dags_folder, EXAMPLE_DAG)
    if not result.succeeded:
        sys.exit(f"{EXAMPLE_DAG} ended {result.state}: {result.task_states}")
    greeting = result.xcoms["report"]["greeting"]
    if greeting != "Hello, Ada Lovelace":
        sys.exit(f"{EXAMPLE_DAG} reported {result.xcoms['report']}")
    return f"{EXAMPLE_DAG}: {len(result.task_states)} tasks succeeded, report says {greeting!r}"


def main() -> None:
    dags_folder = Path(sys.argv[1]).resolve()
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags_folder)
    step("installed from the wheel", installed_from_the_wheel)
    step("airflow providers list", provider_is_listed)
    step("airflow db migrate", migrate_database)
    started = time.monotonic()
    with emulator_from_the_package() as url:
        print(
            f"ok  emulator started from the package ({time.monotonic() - started:.1f} s): {url}", flush=True
        )
        step("example DAG end to end", lambda: run_example(dags_folder, url))


if __name__ == "__main__":
    main()
