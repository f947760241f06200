"""Build the sdist and the wheel into ``dist/`` and check them (``make dist``).

Fails when the build prints a deprecation warning (setuptools announces there the dates after which a project
will no longer build), when ``twine check`` finds the metadata unfit for PyPI, or when the wheel lacks a file the
package needs at run time. That list is read from the source tree, not written down here: every file under
``airflow_provider_creatio/`` (modules, ``py.typed``, any data file the emulator may come to read), every entry
point of ``pyproject.toml``, and the license files. Tests run against an editable install, which reads the source
tree, so only this check sees what the wheel leaves out.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import tomllib

REPO = Path(__file__).resolve().parents[1]
DIST = REPO / "dist"
PACKAGE = "airflow_provider_creatio"
# Bytecode is written by Python itself next to the sources; it is not part of the package.
NOT_SHIPPED = re.compile(r"(^|/)__pycache__/|\.py[co]$")


def build() -> None:
    shutil.rmtree(DIST, ignore_errors=True)
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(DIST), str(REPO)],
        capture_output=True,
        text=True,
        check=False,
    )
    output = done.stdout + done.stderr
    if done.returncode != 0:
        sys.exit(f"python -m build failed:\n{output}")
    # A line naming one of the package's files (copying deprecated.py...) is the build's progress, not a warning.
    warnings = [
        line for line in output.splitlines() if "deprecat" in line.lower() and f"{PACKAGE}/" not in line
    ]
    if warnings:
        sys.exit("python -m build warned of deprecations:\n" + "\n".join(warnings))
    print("build: sdist and wheel, no deprecation warning")


def twine_check(artifacts: list[Path]) -> None:
    subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, artifacts)],
        check=True,
    )


def source_files() -> set[str]:
    """Every file of the package in the source tree, as a path inside the wheel."""
    return {
        path.relative_to(REPO).as_posix()
        for path in (REPO / PACKAGE).rglob("*")
        if path.is_file() and not NOT_SHIPPED.search(path.relative_to(REPO).as_posix())
    }


def wheel_problems(wheel: Path, project: dict[str, Any]) -> list[str]:
    """What the wheel lacks (or carries besides the package), one line each."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        dist_info = next(name.split("/")[0] for name in names if name.endswith(".dist-info/METADATA"))
        entry_points = configparser.ConfigParser(delimiters=("=",))
        entry_points.optionxform = str  # type: ignore[assignment,method-assign]  # names are case-sensitive
        entry_points.read_string(archive.read(f"{dist_info}/entry_points.txt").decode())
        metadata = archive.read(f"{dist_info}/METADATA").decode()
    packaged = {name for name in names if name.startswith(f"{PACKAGE}/")}
    expected = source_files()
    problems = [f"missing from the wheel: {name}" for name in sorted(expected - packaged)]
    problems += [f"in the wheel but not in the source tree: {name}" for name in sorted(packaged - expected)]
    for group, points in project.get("entry-points", {}).items():
        for name, target in points.items():
            shipped = entry_points.get(group, name, fallback=None)
            if shipped != target:
                problems.append(
                    f"entry point [{group}] {name}: {target!r} declared, {shipped!r} in the wheel"
                )
            module_file = target.split(":")[0].replace(".", "/") + ".py"
            if module_file not in names:
                problems.append(f"entry point [{group}] {name}: its module {module_file} is not in the wheel")
    if f"License-Expression: {project['license']}" not in metadata:
        problems.append(f"METADATA does not declare License-Expression: {project['license']}")
    for license_file in project.get("license-files", []):
        if f"{dist_info}/licenses/{license_file}" not in names:
            problems.append(f"license file {license_file} is not in the wheel")
    return problems


def main() -> int:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    build()
    wheels, sdists = sorted(DIST.glob("*.whl")), sorted(DIST.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        sys.exit(f"expected one wheel and one sdist in {DIST}, found {wheels + sdists}")
    twine_check(wheels + sdists)
    problems = wheel_problems(wheels[0], project)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    print(f"{wheels[0].name}: every file of {PACKAGE}/, every entry point and the license files are in it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
