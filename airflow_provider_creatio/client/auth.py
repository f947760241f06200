"""Authentication as a strategy.

A strategy holds what both transports share: the login request, how to read its answer, whether the session is
still usable and which headers every call carries. The transports (requests, httpx) only send bytes and keep the
cookie jar. Every secret the strategy learns goes to a :class:`SecretSink` (the Airflow hook passes Airflow's
``mask_secret``), so Airflow can redact it from task logs.

* :class:`FormsAuth`: ``AuthService.svc/Login`` with user name and password; the session lives in cookies, and
  every call sends ``BPMCSRF: <current BPMCSRF cookie>`` and ``ForceUseSession: true``.
* :class:`OAuthAuth`: OAuth 2.0 client credentials; every call sends ``Authorization: Bearer <token>`` and no
  cookie at all (its cookie policy refuses them).
"""

from __future__ import annotations

import abc
import http.cookiejar
import json
from collections.abc import Callable, Iterable, Mapping
from typing import ClassVar
from urllib.parse import urlencode

from airflow_provider_creatio.client.config import AuthType, CreatioConfig
from airflow_provider_creatio.client.errors import (
    CreatioAuthError,
    CreatioError,
    CreatioResponseError,
    CreatioTokenError,
)
from airflow_provider_creatio.client.http import ApiResponse, Idempotency, Service
from airflow_provider_creatio.client.responses import (
    decode_json,
    error_for_response,
    is_session_expired,
    oauth_error,
    server_message,
)
from airflow_provider_creatio.client.wire import SERVICE_JSON, Outgoing

LOGIN_PATH = "ServiceModel/AuthService.svc/Login"  # at the site root in both layouts
LOGOUT_PATH = "ServiceModel/AuthService.svc/Logout"
CSRF_COOKIE = "BPMCSRF"
# The login name, not a secret: masking it would garble every log line that names the user.
USER_NAME_COOKIE = "UserName"
_TOKEN_LIFETIME_DEFAULT = 3600.0
_TOKEN_RENEW_MARGIN_MAX = 60.0  # renew a token this long (at most a tenth of its life) before it runs out


class SecretSink:
    """Passes every secret, once, to the ``on_secret`` callback (Airflow's ``mask_secret`` in the hook)."""

    def __init__(self, on_secret: Callable[[str], None] | None) -> None:
        self._on_secret = on_secret
        self._seen: set[str] = set()

    def report(self, value: str | None) -> None:
        if not value or value in self._seen:
            return
        self._seen.add(value)
        if self._on_secret is not None:
            self._on_secret(value)


def _refused_credentials(response: ApiResponse) -> bool:
    return response.status in (400, 401, 403) or 300 <= response.status < 400


def _login_refused(response: ApiResponse, message: str, operation: str) -> CreatioError:
    """A non-200 answer to a login: credentials or access refused, or the server failing (classified as usual)."""
    if _refused_credentials(response):
        return CreatioAuthError(
            message,
            status=response.status,
            method=response.method or None,
            path=response.path or None,
            server_message=server_message(response),
            operation=operation,
        )
    return error_for_response(response, operation=operation)


class AuthStrategy(abc.ABC):
    """What a transport needs to know about one way of authenticating. Instances hold the session state (logged in,
    token, expiry) and a ``generation`` that grows with each successful login, so that concurrent callers who saw
    the same rejected session share one re-login."""

    login_operation: ClassVar[str]
    # Whether a 403 means the session went stale (a rotated BPMCSRF), so that a new login and one replay can help.
    forbidden_is_expiry: ClassVar[bool] = True

    def __init__(self, config: CreatioConfig, secrets: SecretSink) -> None:
        self.config = config
        self.secrets = secrets
        self.generation = 0

    @abc.abstractmethod
    def is_current(self, now: float) -> bool:
        """Whether a session exists that calls can use (``now`` is a monotonic clock reading)."""

    @abc.abstractmethod
    def login_request(self) -> Outgoing:
        """The request that opens a session. Its credential is reported to the secret sink here, not when the
        strategy is built: building a client must never call out (see :class:`~.aio.SharedAsyncClients`)."""

    @abc.abstractmethod
    def _accept(self, response: ApiResponse, now: float) -> None:
        """Read the login answer: keep what the session needs, or raise."""

    @abc.abstractmethod
    def headers(self, cookies: Mapping[str, str]) -> dict[str, str]:
        """The headers every authenticated call carries, given the cookies the jar sends to its path."""

    @abc.abstractmethod
    def forget(self) -> None:
        """Drop the session (it was rejected, or logged out)."""

    def session_expired(self, response: ApiResponse) -> bool:
        """Whether an answer says the session (or token) is no longer valid."""
        if response.status == 403 and not self.forbidden_is_expiry:
            return False
        return is_session_expired(response)

    def accept_login(self, response: ApiResponse, now: float) -> None:
        """Read the answer to :meth:`login_request`; raise :class:`CreatioAuthError` if the login failed."""
        self._accept(response, now)
        self.generation += 1

    def logout_request(self) -> Outgoing | None:
        """The request that closes the session, if the method has one."""
        return None

    def note_cookies(self, cookies: Iterable[tuple[str, str]]) -> None:
        """Report the secret cookie values, ``(name, value)`` pairs of the jar, after an answer."""
        for name, value in cookies:
            if name != USER_NAME_COOKIE:
                self.secrets.report(value)

    def cookie_policy(self) -> http.cookiejar.CookiePolicy:
        """The policy of the transport's cookie jar."""
        return http.cookiejar.DefaultCookiePolicy()


class FormsAuth(AuthStrategy):
    """Creatio's forms login: cookies plus the BPMCSRF header."""

    login_operation = "log in to Creatio"

    def __init__(self, config: CreatioConfig, secrets: SecretSink) -> None:
        super().__init__(config, secrets)
        self._logged_in = False

    def is_current(self, now: float) -> bool:
        return self._logged_in

    def login_request(self) -> Outgoing:
        self.secrets.report(self.config.password)
        body = {"UserName": self.config.username, "UserPassword": self.config.password}
        return Outgoing(
            "POST",
            self.config.url(Service.ROOT, LOGIN_PATH),
            {"Accept": "application/json", "Content-Type": SERVICE_JSON},
            json.dumps(body, ensure_ascii=False).encode("utf-8"),
            Idempotency.SAFE,
            self.login_operation,
        )

    def _accept(self, response: ApiResponse, now: float) -> None:
        if response.status != 200:
            raise _login_refused(response, "Creatio refused the login", self.login_operation)
        body = decode_json(response, operation=self.login_operation)
        code = body.get("Code") if isinstance(body, dict) else None
        # HTTP 200 with Code != 0 is a failed login: the status alone never tells.
        if code not in (0, "0"):
            raise CreatioAuthError(
                f"login failed (Code {code})",
                status=response.status,
                method=response.method or None,
                path=response.path or None,
                server_message=server_message(response),
                operation=self.login_operation,
            )
        self._logged_in = True

    def headers(self, cookies: Mapping[str, str]) -> dict[str, str]:
        headers = {"ForceUseSession": "true"}
        csrf = cookies.get(CSRF_COOKIE)
        if csrf:  # read from the jar at send time, so a BPMCSRF rotated by any answer is picked up
            headers[CSRF_COOKIE] = csrf
        return headers

    def forget(self) -> None:
        self._logged_in = False

    def logout_request(self) -> Outgoing | None:
        return Outgoing(
            "POST",
            self.config.url(Service.ROOT, LOGOUT_PATH),
            {"Accept": "application/json", "Content-Type": SERVICE_JSON},
            b"{}",
            Idempotency.SAFE,
            "log out of Creatio",
        )


class OAuthAuth(AuthStrategy):
    """OAuth 2.0 client credentials: a bearer token from the identity server, renewed shortly before it expires."""

    login_operation = "get an OAuth token"
    # A bearer call refused with 403 lacks permission: a new token for the same client would be refused too.
    forbidden_is_expiry = False

    def __init__(self, config: CreatioConfig, secrets: SecretSink) -> None:
        super().__init__(config, secrets)
        self._token: str | None = None
        self._renew_at = 0.0

    def is_current(self, now: float) -> bool:
        return self._token is not None and now < self._renew_at

    def login_request(self) -> Outgoing:
        self.secrets.report(self.config.client_secret)
        form = {
            "grant_type": "client_credentials",
            "client_id": self.config.client_id or "",
            "client_secret": self.config.client_secret or "",
        }
        return Outgoing(
            "POST",
            self.config.token_url,
            {"Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded"},
            urlencode(form).encode("ascii"),
            Idempotency.SAFE,
            self.login_operation,
        )

    def _accept(self, response: ApiResponse, now: float) -> None:
        if response.status != 200:
            raise self._refusal(response)
        # The token answer is a credential: an error about it must not quote it.
        body = decode_json(response, operation=self.login_operation, quote_body=False)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise CreatioResponseError(
                "the identity server answered without an access_token",
                status=response.status,
                method=response.method or None,
                path=response.path or None,
                operation=self.login_operation,
            )
        self.secrets.report(token)
        lifetime = _lifetime(body.get("expires_in"))
        self._token = token
        self._renew_at = now + lifetime - min(_TOKEN_RENEW_MARGIN_MAX, lifetime / 10)

    def _refusal(self, response: ApiResponse) -> CreatioError:
        """The identity server's "no": a token error carrying its RFC 6749 ``error`` and ``error_description``."""
        if not _refused_credentials(response):
            return error_for_response(response, operation=self.login_operation)
        error, description = oauth_error(response)
        return CreatioTokenError(
            "the identity server refused the token request",
            error=error,
            error_description=description,
            status=response.status,
            method=response.method or None,
            path=response.path or None,
            operation=self.login_operation,
        )

    def headers(self, cookies: Mapping[str, str]) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    def forget(self) -> None:
        self._token = None

    def cookie_policy(self) -> http.cookiejar.CookiePolicy:
        # Bearer calls carry no cookie: accept none, so none can be sent.
        return http.cookiejar.DefaultCookiePolicy(allowed_domains=[])


def _lifetime(value: object) -> float:
    """``expires_in`` in seconds; the documented default when it is missing or unreadable."""
    try:
        seconds = float(value) if isinstance(value, (int, float, str)) else 0.0
    except ValueError:
        seconds = 0.0
    return seconds if seconds > 0 else _TOKEN_LIFETIME_DEFAULT


def make_auth(config: CreatioConfig, secrets: SecretSink) -> AuthStrategy:
    """The strategy the configuration asks for."""
    if config.auth_type is AuthType.OAUTH:
        return OAuthAuth(config, secrets)
    return FormsAuth(config, secrets)
