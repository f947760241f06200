"""1. DAG-parse cost: importing the provider's operator, sensor and hook modules in a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TypedDict

from benchmarks.harness import Bench, Result, Target, median

MODULES = (
    "airflow_provider_creatio.operators.entity",
    "airflow_provider_creatio.operators.process",
    "airflow_provider_creatio.sensors.entity",
    "airflow_provider_creatio.sensors.process",
    "airflow_provider_creatio.hooks.creatio",
    "airflow_provider_creatio.transfers.object_storage_to_creatio",
)
HEAVY = ("requests", "urllib3", "tenacity", "httpx", "yaml", "croniter", "starlette", "uvicorn", "pyarrow")
TARGET_MS = 30.0

# Runs in a fresh interpreter: airflow.sdk first (every DAG file needs it), then the provider, timed apart.
PROBE = f"""
import json, sys, time
started = time.perf_counter()
import airflow.sdk
sdk_ms = (time.perf_counter() - started) * 1000
before = set(sys.modules)
started = time.perf_counter()
for name in {MODULES!r}:
    __import__(name)
provider_ms = (time.perf_counter() - started) * 1000
new = {{name.split(".")[0] for name in set(sys.modules) - before}}
heavy = {HEAVY!r}
print(json.dumps({{
    "sdk_ms": sdk_ms,
    "provider_ms": provider_ms,
    "heavy_by_provider": sorted(set(heavy) & new),
    "heavy_by_sdk": sorted(name for name in heavy if name in before),
}}))
"""


class Probe(TypedDict):
    sdk_ms: float
    provider_ms: float
    heavy_by_provider: list[str]
    heavy_by_sdk: list[str]


def probe() -> Probe:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    result: Probe = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(bench: Bench) -> Result:
    scale = bench.scale
    probes = [probe() for _ in range(scale.parse_runs)]
    provider = median([p["provider_ms"] for p in probes])
    sdk = median([p["sdk_ms"] for p in probes])
    by_provider = sorted({name for p in probes for name in p["heavy_by_provider"]})
    by_sdk = sorted({name for p in probes for name in p["heavy_by_sdk"]})
    not_imported = [name for name in HEAVY if name not in by_provider and name not in by_sdk]
    return Result(
        key="dag_parse",
        title="1. DAG-parse cost",
        measures=f"importing {', '.join(m.rsplit('.', 2)[-2] + '.' + m.rsplit('.', 1)[-1] for m in MODULES)} "
        f"after a bare `import airflow.sdk`, in {scale.parse_runs} fresh interpreters (median)",
        rows=[
            (
                "import time (median)",
                f"{provider:.1f} ms",
                f"{sdk:.0f} ms for airflow.sdk alone",
                f"{provider / sdk:.1%}",
            ),
            ("heavy libraries the provider imports", ", ".join(by_provider) or "none", "-", "-"),
            ("already imported by airflow.sdk", ", ".join(by_sdk) or "none", "-", "-"),
            ("imported by neither", ", ".join(not_imported) or "none", "-", "-"),
        ],
        columns=("figure", "the provider's modules", "compared with", "share"),
        figures={
            "provider_ms_median": provider,
            "sdk_ms_median": sdk,
            "provider_ms_runs": [p["provider_ms"] for p in probes],
            "heavy_imported_by_provider": by_provider,
            "heavy_imported_by_sdk": by_sdk,
            "heavy_not_imported": not_imported,
        },
        targets=[
            Target(f"under {TARGET_MS:g} ms: {provider:.1f} ms", provider < TARGET_MS),
            Target(
                f"no heavy library imported by the provider ({', '.join(HEAVY)}): "
                f"{', '.join(by_provider) or 'none'}",
                not by_provider,
                behaviour=True,
            ),
        ],
    )
