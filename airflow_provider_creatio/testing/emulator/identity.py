"""The emulated Identity Service: registered OAuth 2.0 clients, the client credentials grant, and the bearer
tokens the Creatio site accepts.

Creatio's Identity Service is a site of its own (``<site>-is.creatio.com`` in the cloud, a URL of the on-site
installer's choosing otherwise), so the emulator serves it on a port of its own (``EmulatorServer.identity_url``).
A client that sends its token request to the Creatio site gets the site's 404, as it would on a real one.

The client in the settings (``oauth_client_id``, ``oauth_client_secret``, ``token_lifetime``) is always
registered; :meth:`IdentityServer.register` adds more, each with its own secret and token lifetime, as the
"OAuth 2.0 integrated applications" page of Creatio does. Refusals follow RFC 6749 section 5.2:
``{"error": ..., "error_description": ...}``, 400, or 401 when the client authenticated with HTTP Basic.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from airflow_provider_creatio.testing.emulator.settings import EmulatorSettings

CLIENT_AUTH_FAILED = "Client authentication failed: unknown client id or wrong client secret."


@dataclass(frozen=True)
class OAuthClient:
    client_id: str
    client_secret: str = field(repr=False)
    token_lifetime: float | None = None  # seconds; None: the settings' token_lifetime


@dataclass(frozen=True)
class Grant:
    access_token: str = field(repr=False)
    expires_in: float


@dataclass(frozen=True)
class Refusal:
    error: str  # an RFC 6749 error code: invalid_request, invalid_client, unsupported_grant_type
    description: str


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class IdentityServer:
    """Thread-safe: the routes run on the server's event loop, tests call in from their own thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clients: dict[str, OAuthClient] = {}
        self._tokens: dict[str, tuple[str, float]] = {}  # access token -> (client id, monotonic expiry)
        self._issued = 0

    def register(self, client_id: str, client_secret: str, token_lifetime: float | None = None) -> None:
        """Add (or replace) a client. It stays registered until :meth:`unregister` or a reset."""
        if not client_id or not client_secret:
            raise ValueError("an OAuth client needs a non-empty client id and client secret")
        if token_lifetime is not None and token_lifetime < 0:
            raise ValueError("a token lifetime must be >= 0 seconds")
        with self._lock:
            self._clients[client_id] = OAuthClient(client_id, client_secret, token_lifetime)

    def unregister(self, client_id: str) -> bool:
        """Remove a registered client and revoke its tokens; whether it was registered."""
        with self._lock:
            removed = self._clients.pop(client_id, None) is not None
            self._revoke_locked(lambda owner: owner == client_id)
        return removed

    def grant(self, settings: EmulatorSettings, client_id: str, client_secret: str) -> Grant | Refusal:
        """The client credentials grant: a new token, or the refusal to answer."""
        client = self._client(settings, client_id)
        if client is None or not _same(client_secret, client.client_secret):
            return Refusal("invalid_client", CLIENT_AUTH_FAILED)
        lifetime = settings.token_lifetime if client.token_lifetime is None else client.token_lifetime
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = (client.client_id, time.monotonic() + lifetime)
            self._issued += 1
        return Grant(token, lifetime)

    def accepts(self, token: str) -> bool:
        """Whether a bearer token was issued here and has not expired (expired ones are forgotten)."""
        with self._lock:
            entry = self._tokens.get(token)
            if entry is not None and time.monotonic() >= entry[1]:
                del self._tokens[token]
                entry = None
        return entry is not None

    def client_of(self, token: str) -> str | None:
        """The client id a token was issued to, or None for a token unknown here."""
        with self._lock:
            entry = self._tokens.get(token)
        return None if entry is None else entry[0]

    def expire_tokens(self) -> int:
        """Make every issued token expire now; how many were live."""
        with self._lock:
            return self._revoke_locked(lambda _owner: True)

    def clear(self) -> None:
        """No tokens, no registered clients beyond the settings' one, counters at zero."""
        with self._lock:
            self._clients.clear()
            self._tokens.clear()
            self._issued = 0

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"tokens_issued": self._issued, "tokens_live": len(self._tokens)}

    def issued_tokens(self) -> list[str]:
        """The live tokens (for tests that look for leaked credentials)."""
        with self._lock:
            return list(self._tokens)

    def _client(self, settings: EmulatorSettings, client_id: str) -> OAuthClient | None:
        with self._lock:
            registered = self._clients.get(client_id)
        if registered is not None:
            return registered
        if settings.oauth_client_id and _same(client_id, settings.oauth_client_id):
            return OAuthClient(settings.oauth_client_id, settings.oauth_client_secret)
        return None

    def _revoke_locked(self, owned: Callable[[str], bool]) -> int:
        doomed = [token for token, (owner, _) in self._tokens.items() if owned(owner)]
        for token in doomed:
            del self._tokens[token]
        return len(doomed)
