"""What the emulator issued: every session's cookie values and every bearer token, recorded on the emulator's
side (by wrapping its session registry and identity server), so that a leak check does not depend on what the
client says it saw. Shared by the secrets tests and the deployment tier."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio.testing.emulator import EmulatorServer, EmulatorSettings
from airflow_provider_creatio.testing.emulator.identity import Grant


@dataclass
class Issued:
    """Every credential the emulator handed out: cookie values of each session, and bearer tokens."""

    sessions: int = 0
    tokens: int = 0
    values: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_session(self, *cookie_values: str) -> None:
        with self._lock:
            self.sessions += 1
            self.values.update(cookie_values)

    def add_token(self, token: str) -> None:
        with self._lock:
            self.tokens += 1
            self.values.add(token)

    def secrets(self, *configured: str) -> set[str]:
        """The issued values and the ``configured`` ones (passwords, client secrets)."""
        with self._lock:
            return self.values | set(configured)


@contextmanager
def recording_issued(emulator: EmulatorServer) -> Iterator[Issued]:
    """Wrap the emulator's session registry and identity server so that every session and token they issue is
    recorded."""
    registry, identity = emulator.state.auth, emulator.state.identity
    issued = Issued()
    login, grant = registry.login, identity.grant

    def recording_login(settings: EmulatorSettings, username: str, password: str) -> Any:
        session = login(settings, username, password)
        if session is not None:
            issued.add_session(session.aspxauth, session.session_id, session.loader, session.csrf)
        return session

    def recording_grant(settings: EmulatorSettings, client_id: str, client_secret: str) -> Any:
        outcome = grant(settings, client_id, client_secret)
        if isinstance(outcome, Grant):
            issued.add_token(outcome.access_token)
        return outcome

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(registry, "login", recording_login)
        patch.setattr(identity, "grant", recording_grant)
        yield issued


def leaks(text: str, secrets: set[str]) -> list[str]:
    """The secrets found in ``text`` (shortened, so that a failing assertion does not print them whole)."""
    return [f"{secret[:4]}...({len(secret)} chars)" for secret in sorted(secrets) if secret in text]


def assert_no_secret_in_files(folder: Path, secrets: set[str]) -> None:
    """No secret in any file under ``folder`` (logs, component output, a SQLite metadata database)."""
    assert len(secrets) > 2, "the emulator issued no session: nothing was checked"
    files = (path for path in folder.rglob("*") if path.is_file())
    leaked = {
        str(path): found
        for path in files
        if (found := leaks(path.read_bytes().decode(errors="replace"), secrets))
    }
    assert not leaked, f"secrets in files: {leaked}"
