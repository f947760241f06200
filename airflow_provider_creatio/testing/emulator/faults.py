"""Faults the emulator injects before normal handling, so tests can script outages deterministically.

``FaultPlan.next_fault(method, path)`` is the single place a request is checked for a fault (the gate calls it
first for every request except the admin endpoints). Scripted faults are queued per path pattern and consumed one
status per matching request.
"""

from __future__ import annotations

import random
import re
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class Fault:
    status: int
    retry_after: float | None = None


@dataclass
class _Script:
    pattern: re.Pattern[str]
    statuses: deque[int]
    retry_after: float | None
    method: str | None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and self.pattern.search(path) is not None


class FaultPlan:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: list[_Script] = []

    def script(
        self,
        path_regex: str,
        statuses: list[int],
        retry_after: float | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next requests whose path matches ``path_regex`` (``re.search``) with ``statuses``, in order.

        ``method`` limits the script to one HTTP method; ``retry_after`` (seconds) adds a Retry-After header.
        Earlier scripts take precedence over later ones matching the same request.
        """
        if not statuses or not all(isinstance(s, int) and 300 <= s <= 599 for s in statuses):
            raise ValueError("statuses must be a non-empty list of HTTP status codes from 300 to 599")
        if retry_after is not None and retry_after < 0:
            raise ValueError("retry_after must be >= 0 seconds")
        script = _Script(
            re.compile(path_regex), deque(statuses), retry_after, method.upper() if method else None
        )
        with self._lock:
            self._scripts.append(script)

    def next_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for script in self._scripts:
                if script.matches(method, path):
                    status = script.statuses.popleft()
                    if not script.statuses:
                        self._scripts.remove(script)
                    return Fault(status, script.retry_after)
        return None

    def clear(self) -> None:
        with self._lock:
            self._scripts.clear()


# --- seeded random faults ---------------------------------------------------------------------------------------

STATUS_FAULTS = ("500", "502", "503", "504", "429")
BODY_FAULTS = ("drop_before", "drop_after", "truncate", "non_json", "slow")
FAULT_KINDS = STATUS_FAULTS + BODY_FAULTS
DEFAULT_SCOPE = r"/(0/)?(odata|ServiceModel/ProcessEngineService\.svc)/"


@dataclass(frozen=True)
class ChaosSpec:
    """Random faults, reproducible from ``seed``: the same seed and the same request sequence give the same faults.

    ``rates`` maps a kind to the share of matching requests that get it: ``"500"``, ``"502"``, ``"503"``,
    ``"504"``, ``"429"`` (answered before any work, with ``Retry-After: retry_after``), ``drop_before`` (the
    connection is closed before the request is handled), ``drop_after`` (the request is handled, its effect
    applied, then the connection is closed without the answer), ``truncate`` (the answer's body is cut in half),
    ``non_json`` (the body is replaced by an HTML error text), ``slow`` (the answer waits ``slow_seconds`` first).
    ``latency`` is added to every matching request. ``expire_every`` ends every session after that many matching
    requests (answered per ``expiry_form``); ``rotate_csrf_every`` gives the session a new BPMCSRF cookie on every
    Nth matching answer, after which the old token gets 403. Only paths matching ``path_regex`` (and ``methods``,
    when given) are touched; Login and the admin endpoints never are. ``limit`` caps the number of rate faults.
    """

    seed: int = 0
    rates: Mapping[str, float] = field(default_factory=dict)
    retry_after: float = 0.05
    latency: float = 0.0
    slow_seconds: float = 5.0
    expire_every: int = 0
    rotate_csrf_every: int = 0
    path_regex: str = DEFAULT_SCOPE
    methods: tuple[str, ...] = ()
    limit: int = (
        0  # at most this many rate faults in all (0: no limit); 1 with a rate of 1 faults the first call
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChaosSpec:
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        spec = cls(**{**data, "methods": tuple(m.upper() for m in data.get("methods", ()))})
        bad = set(spec.rates) - set(FAULT_KINDS)
        if bad or not all(0 <= r <= 1 for r in spec.rates.values()) or sum(spec.rates.values()) > 1:
            raise ValueError(f"fault rates: kinds from {FAULT_KINDS}, each 0..1, summing to at most 1")
        re.compile(spec.path_regex)
        return spec


@dataclass(frozen=True)
class Draw:
    """What the chaos plan decided for one request."""

    kind: str | None = None  # a FAULT_KINDS entry, or None
    latency: float = 0.0
    expire_sessions: bool = False
    rotate_csrf: bool = False

    @property
    def status(self) -> int | None:
        return int(self.kind) if self.kind in STATUS_FAULTS else None


class ChaosPlan:
    """Draws seeded faults per matching request. Thread-safe; ``configure`` restarts the random sequence."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.configure(None)

    def configure(self, data: Mapping[str, Any] | None) -> None:
        spec = ChaosSpec.from_dict(data) if data else None
        with self._lock:
            self._config = dict(data or {})
            self._spec = spec
            self._rng = random.Random(spec.seed if spec else 0)  # reproducible faults, not secrets
            self._pattern = re.compile(spec.path_regex) if spec else None
            self._matched = 0
            self.counts: dict[str, int] = {}

    def sync(self, data: Mapping[str, Any]) -> None:
        """Follow the live ``faults`` setting: a changed setting restarts the seeded sequence."""
        if dict(data) != self._config:
            self.configure(data)

    def draw(self, method: str, path: str) -> Draw:
        with self._lock:
            spec, pattern = self._spec, self._pattern
            if spec is None or pattern is None or pattern.search(path) is None:
                return Draw()
            if spec.methods and method not in spec.methods:
                return Draw()
            self._matched += 1
            roll, kind, edge = self._rng.random(), None, 0.0
            for name, rate in spec.rates.items():
                edge += rate
                if roll < edge:
                    kind = name
                    break
            faults_so_far = sum(n for name, n in self.counts.items() if name != "expire")
            if kind is not None and spec.limit and faults_so_far >= spec.limit:
                kind = None
            if kind is not None:
                self.counts[kind] = self.counts.get(kind, 0) + 1
            expire = bool(spec.expire_every) and self._matched % spec.expire_every == 0
            if expire and spec.limit and self.counts.get("expire", 0) >= spec.limit:
                expire = False
            if expire:
                self.counts["expire"] = self.counts.get("expire", 0) + 1
            return Draw(
                kind=kind,
                latency=spec.latency + (spec.slow_seconds if kind == "slow" else 0.0),
                expire_sessions=expire,
                rotate_csrf=bool(spec.rotate_csrf_every) and self._matched % spec.rotate_csrf_every == 0,
            )

    @property
    def retry_after(self) -> float:
        return self._spec.retry_after if self._spec else 0.0
