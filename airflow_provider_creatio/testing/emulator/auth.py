"""Forms sessions (cookies + BPMCSRF): who may call with cookies, and for how long. Bearer tokens are the identity
server's (``identity.py``); :func:`bearer_token` reads one from a request.

A session lives while it is used: ``session_lifetime`` is an inactivity timeout, as Creatio's UserSessionTimeout.
Settings are passed in on every call, so changing them changes the next answer.
"""

from __future__ import annotations

import enum
import hmac
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

from airflow_provider_creatio.testing.emulator.settings import EmulatorSettings

SESSION_COOKIES = (".ASPXAUTH", "BPMSESSIONID")


class Verdict(enum.Enum):
    COOKIE = "cookie"  # a live session and the matching BPMCSRF header
    BEARER = "bearer"  # a live OAuth access token
    NO_SESSION = "no-session"  # no session cookie, or an expired or logged-out one
    BAD_CSRF = "bad-csrf"  # a live session, but BPMCSRF missing or different
    BAD_TOKEN = "bad-token"  # an unknown or expired bearer token


@dataclass(repr=False)
class Session:
    user: str
    aspxauth: str
    session_id: str
    csrf: str
    loader: str
    last_used: float
    created: float = 0.0
    uses: int = 0

    def __repr__(self) -> str:  # the values are credentials: never show them
        return f"Session(user={self.user!r})"


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _token() -> str:
    return secrets.token_urlsafe(24)


class AuthRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}  # by .ASPXAUTH and by BPMSESSIONID value

    def login(self, settings: EmulatorSettings, username: str, password: str) -> Session | None:
        if not (_same(username, settings.username) and _same(password, settings.password)):
            return None
        now = time.monotonic()
        session = Session(username, _token(), _token(), _token(), _token(), now, now)
        with self._lock:
            self._sessions[session.aspxauth] = session
            self._sessions[session.session_id] = session
        return session

    def logout(self, cookies: Mapping[str, str]) -> None:
        with self._lock:
            session = self._find(cookies)
            if session is not None:
                self._drop(session)

    def check(
        self, settings: EmulatorSettings, headers: Mapping[str, str], cookies: Mapping[str, str]
    ) -> Verdict:
        """Whether a request without a bearer token may call Creatio: a live session and its BPMCSRF header."""
        now = time.monotonic()
        with self._lock:
            session = self._find(cookies)
            if session is None:
                return Verdict.NO_SESSION
            lifetime, max_age = settings.session_lifetime, settings.session_max_age
            idle_too_long = lifetime is not None and now - session.last_used > lifetime
            too_old = max_age is not None and now - session.created > max_age
            used_up = (
                settings.session_max_requests is not None and session.uses >= settings.session_max_requests
            )
            if idle_too_long or too_old or used_up:
                self._drop(session)
                return Verdict.NO_SESSION
            session.last_used = now
            session.uses += 1
        if not _same(headers.get("bpmcsrf", ""), session.csrf):
            return Verdict.BAD_CSRF
        return Verdict.COOKIE

    def rotate_csrf(self, cookies: Mapping[str, str]) -> str | None:
        """Give the session a new BPMCSRF token (the old one stops working); the new value, or None."""
        with self._lock:
            session = self._find(cookies)
            if session is None:
                return None
            session.csrf = _token()
            return session.csrf

    def owner(self, cookies: Mapping[str, str]) -> tuple[str, str] | None:
        """The user of the session the cookies name and a key for that session (one key for both of its cookies),
        or None; unlike ``check``, this counts no use."""
        with self._lock:
            session = self._find(cookies)
        return None if session is None else (session.user, session.session_id)

    def expire_all(self) -> None:
        """End every session now."""
        with self._lock:
            self._sessions.clear()

    def session_count(self) -> int:
        with self._lock:
            return len({id(session) for session in self._sessions.values()})

    def _find(self, cookies: Mapping[str, str]) -> Session | None:
        for name in SESSION_COOKIES:
            session = self._sessions.get(cookies.get(name, ""))
            if session is not None:
                return session
        return None

    def _drop(self, session: Session) -> None:
        self._sessions.pop(session.aspxauth, None)
        self._sessions.pop(session.session_id, None)


def bearer_token(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer`` header, or None when the request sends none."""
    authorization = headers.get("authorization", "")
    return authorization[7:].strip() if authorization[:7].lower() == "bearer " else None
