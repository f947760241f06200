"""``make smoke-wheel``: the install path of docs/getting-started.md, run as a user would, from the code blocks
themselves, so that the page cannot drift from what works::

    .venv/bin/python scripts/smoke_wheel.py build/smoke-home

Every code block after a ``<!-- smoke: ... -->`` comment, in the page's order, goes into one bash script that runs
from the repository's top folder with a fresh, empty ``HOME`` (``~`` in the commands) and no ``AIRFLOW_*`` or
virtual environment inherited:

* ``<!-- smoke: run -->``: the commands, as written;
* ``<!-- smoke: background -->``: the commands of a second terminal (the emulator), started in the background from
  ``HOME``, where a new terminal starts; the script waits for its "serving at" line;
* ``<!-- smoke: file PATH -->``: the block saved as ``$AIRFLOW_HOME/PATH``.

Two things differ from the page, neither a command: the emulator's ports 8765 and 8766 become two free ones (the
machine may be running another emulator), and pip uses the invoking user's download cache. Then the environment
the page built is checked: the package comes from the wheel (not editable) and ``airflow providers list`` shows it
at its version. The last command of the page, ``airflow dags test``, fails the run if a task fails.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "getting-started.md"
DOCUMENTED_PORT = 8765  # the emulator's; its identity server takes the next one
STEP = re.compile(
    r"<!-- smoke: (?P<kind>run|background|file)(?: (?P<path>\S+))? -->\n```\w*\n(?P<body>.*?)\n```", re.DOTALL
)
SERVING = "Creatio emulator serving at"
VENV = "airflow-creatio"  # under HOME, where the page creates it
AIRFLOW_HOME = "airflow-creatio-home"  # likewise
LIMIT = 1200  # seconds for the whole page; a fresh install of Airflow is most of it


@dataclass(frozen=True)
class Step:
    kind: str
    body: str
    path: str | None = None


def documented_steps(page: str) -> list[Step]:
    steps = [Step(m.group("kind"), m.group("body"), m.group("path")) for m in STEP.finditer(page)]
    if not steps:
        raise SystemExit(f"{PAGE.name} marks no block with <!-- smoke: ... -->")
    return steps


def smoke_script(steps: list[Step], port: int) -> str:
    """One bash script that runs ``steps`` in order, with the emulator's documented ports replaced by ``port``
    and the next one."""
    lines = ["set -euo pipefail"]
    for number, step in enumerate(steps):
        body = _ports(step.body, port)
        if step.kind == "run":
            lines.append(body)
        elif step.kind == "file":
            target = f'"$AIRFLOW_HOME"/{shlex.quote(step.path or "")}'
            lines.append(f"cat > {target} <<'SMOKE_FILE'\n{body}\nSMOKE_FILE")
        else:
            log = f'"$HOME/background-{number}.log"'
            lines.append(f'( cd "$HOME"\n{body}\n) > {log} 2>&1 &')  # a new terminal starts at home
            lines.append(_wait_for(log))
    return "\n".join(lines) + "\n"


def _ports(text: str, port: int) -> str:
    return re.sub(
        rf"\b{DOCUMENTED_PORT + 1}\b", str(port + 1), re.sub(rf"\b{DOCUMENTED_PORT}\b", str(port), text)
    )


def _wait_for(log: str) -> str:
    return (
        f"for _ in $(seq 300); do grep -q '{SERVING}' {log} && break; sleep 0.2; done\n"
        f"grep -q '{SERVING}' {log} || {{ cat {log}; echo 'the background step did not start' >&2; exit 1; }}"
    )


def free_port_pair() -> int:
    """A port whose successor is free too (the emulator's identity server takes port + 1)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port
    raise SystemExit("no two free ports in a row")


def clean_environment(home: Path) -> dict[str, str]:
    """The invoking environment without what would bypass the page (a virtual environment, Airflow settings),
    with ``home`` as HOME and the invoking user's pip download cache."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AIRFLOW") and name not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    }
    cache = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
    return {**inherited, "HOME": str(home), "PIP_CACHE_DIR": cache}


def run_page(home: Path) -> None:
    script = smoke_script(documented_steps(PAGE.read_text(encoding="utf-8")), free_port_pair())
    (home / "smoke.sh").write_text(script, encoding="utf-8")
    # A process group of its own: the background emulator goes with it, by this group's id.
    process = subprocess.Popen(
        ["bash", str(home / "smoke.sh")], cwd=REPO, env=clean_environment(home), start_new_session=True
    )
    try:
        returncode = process.wait(timeout=LIMIT)
    finally:
        _end_group(process)
    if returncode != 0:
        raise SystemExit(
            f"the commands of {PAGE.relative_to(REPO)} failed (exit {returncode}): {home / 'smoke.sh'}"
        )


def _end_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


CHECK = """
import json, subprocess, sys, sysconfig
from importlib import metadata
from pathlib import Path
import airflow_provider_creatio
from airflow_provider_creatio.get_provider_info import get_provider_info

name = "airflow-provider-creatio"
module = Path(airflow_provider_creatio.__file__).resolve()
site = Path(sysconfig.get_paths()["purelib"]).resolve()
assert site in module.parents, f"{module} is not in {site}"
direct = json.loads(metadata.distribution(name).read_text("direct_url.json") or "{}")
assert not direct.get("dir_info", {}).get("editable"), "installed editable"
version = metadata.version(name)
assert get_provider_info()["versions"] == [version], get_provider_info()["versions"]
listed = subprocess.run([str(Path(sys.executable).parent / "airflow"), "providers", "list", "--output", "json"],
                        capture_output=True, text=True, check=True).stdout
providers = {entry["package_name"]: entry["version"] for entry in json.loads(listed)}
assert providers.get(name) == version, providers.get(name)
print(f"{name} {version} from the wheel in {site}, listed by airflow providers list")
"""


def check_installed(home: Path) -> None:
    env = {**clean_environment(home), "AIRFLOW_HOME": str(home / AIRFLOW_HOME)}
    # From HOME: "python -c" puts its working folder first on sys.path, and the clone's holds the sources.
    subprocess.run([str(home / VENV / "bin" / "python"), "-c", CHECK], cwd=home, env=env, check=True)


def main() -> None:
    home = Path(sys.argv[1]).resolve()
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    started = time.monotonic()
    run_page(home)
    print(f"ok  the commands of {PAGE.relative_to(REPO)} ({time.monotonic() - started:.0f} s)", flush=True)
    check_installed(home)


if __name__ == "__main__":
    main()
