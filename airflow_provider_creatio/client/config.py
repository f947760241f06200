"""Client configuration: where Creatio is, how to log in, and how patient to be."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from airflow_provider_creatio.client.errors import CreatioConfigError
from airflow_provider_creatio.client.filter_nodes import DEFAULT_MAX_FILTER_NODES, MIN_FILTER_NODES
from airflow_provider_creatio.client.http import Service

# Plain http is accepted without opt-in only where nothing crosses a network: the emulator, a local tunnel.
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
TOKEN_PATH = "/connect/token"  # noqa: S105 - a URL path, not a password


class SessionMode(str, enum.Enum):
    """How the site serves the requests of one session (Creatio's integration guidance; nothing on the wire tells).
    It decides how parallel writes share sessions (:mod:`.lanes`)."""

    NONBLOCKING = "nonblocking"  # side by side: parallel requests may share one session
    BLOCKING = "blocking"  # one at a time (ASP.NET session state): parallel requests need a session each

    @classmethod
    def parse(cls, value: str | SessionMode) -> SessionMode:
        """An argument's value, refused with the choices when it is none of them."""
        try:
            return cls(value)
        except ValueError:
            choices = " or ".join(mode.value for mode in cls)
            raise CreatioConfigError(f"session_mode must be {choices}, got {value!r}") from None


class AuthType(str, enum.Enum):
    FORMS = "forms"  # AuthService.svc/Login, cookies + BPMCSRF
    OAUTH = "oauth"  # OAuth 2.0 client credentials, bearer token


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # total tries of one request, the first included
    backoff_initial: float = 0.5  # seconds before the second try; doubled each time, with full jitter
    backoff_max: float = 30.0  # cap of one wait (also caps an honoured Retry-After)
    retry_statuses: frozenset[int] = frozenset({429, 502, 503, 504})

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise CreatioConfigError(f"retry attempts must be at least 1, got {self.attempts}")
        if self.backoff_initial < 0 or self.backoff_max < 0:
            raise CreatioConfigError("retry backoff must not be negative")


@dataclass(frozen=True)
class CreatioConfig:
    base_url: str  # e.g. https://mysite.creatio.com (no trailing /0)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    auth_type: AuthType = AuthType.FORMS
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    identity_server_url: str | None = None  # OAuth only; derived for *.creatio.com when empty
    net_core: bool = False  # True: no /0/ prefix before ServiceModel and odata
    verify: bool | str = True  # True, False (needs allow_insecure) or a CA bundle path
    allow_insecure: bool = (
        False  # explicit opt-in to switch TLS verification off, or to use http:// off loopback
    )
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # The site's MaxNodeCount: no $filter over it is sent, and lookups are split to stay within it.
    odata_max_filter_nodes: int = DEFAULT_MAX_FILTER_NODES
    session_mode: SessionMode = SessionMode.NONBLOCKING

    def __post_init__(self) -> None:
        base = _checked_url(
            self.base_url,
            "Creatio URL",
            "connection host",
            "the password and session cookies",
            self.allow_insecure,
        )
        # Users paste the /0 of .NET Framework sites; the layout flag decides that prefix instead.
        if base.endswith("/0"):
            base = base[:-2]
        object.__setattr__(self, "base_url", base)
        if self.verify is False and not self.allow_insecure:
            raise CreatioConfigError(
                "TLS verification is switched off but insecure mode was not allowed explicitly "
                "(set allow_insecure / the connection extra 'allow_insecure': true)"
            )
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise CreatioConfigError("timeouts must be positive numbers of seconds")
        if self.odata_max_filter_nodes < MIN_FILTER_NODES:
            raise CreatioConfigError(
                f"odata_max_filter_nodes must be at least {MIN_FILTER_NODES} (one Id lookup per $filter), "
                f"got {self.odata_max_filter_nodes}"
            )
        if self.auth_type is AuthType.FORMS and not (self.username and self.password):
            raise CreatioConfigError("forms authentication needs a user name and a password")
        if self.auth_type is AuthType.OAUTH:
            self._check_oauth()

    def _check_oauth(self) -> None:
        if not (self.client_id and self.client_secret):
            raise CreatioConfigError(
                "OAuth authentication needs a client id and a client secret "
                "(the connection extras client_id and client_secret)"
            )
        if self.identity_server_url:
            identity = _checked_url(
                self.identity_server_url,
                "identity server URL",
                "identity_server_url",
                "the client secret and tokens",
                self.allow_insecure,
            )
            # A pasted token endpoint is the identity server's URL plus the path the client adds itself.
            if identity.endswith(TOKEN_PATH):
                identity = identity[: -len(TOKEN_PATH)]
            object.__setattr__(self, "identity_server_url", identity)
        elif not (urlsplit(self.base_url).hostname or "").endswith(".creatio.com"):
            raise CreatioConfigError(
                "OAuth needs the identity server URL in the connection for sites outside creatio.com"
            )

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    def root(self, service: Service) -> str:
        """The absolute URL, with a trailing slash, that request paths of ``service`` are relative to."""
        if service is Service.ROOT:
            return f"{self.base_url}/"
        app = f"{self.base_url}{'' if self.net_core else '/0'}/"
        if service is Service.APP:
            return app
        return app + ("ServiceModel/" if service is Service.SERVICE_MODEL else "odata/")

    def url(self, service: Service, path: str) -> str:
        return self.root(service) + path.lstrip("/")

    @property
    def token_url(self) -> str:
        """The OAuth token endpoint: configured, or Creatio cloud's ``-is`` host convention."""
        if self.identity_server_url:
            return self.identity_server_url + TOKEN_PATH
        parts = urlsplit(self.base_url)
        first, rest = (parts.hostname or "").split(".", 1)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{first}-is.{rest}{port}{TOKEN_PATH}"


def _checked_url(url: str | None, what: str, where: str, secrets: str, allow_insecure: bool) -> str:
    """``url`` without surrounding blanks and trailing slashes, once it is known to be safe to send ``secrets``
    to."""
    text = (url or "").strip()
    if not text:
        raise CreatioConfigError(f"the {what} ({where}) is empty")
    parts = urlsplit(text)
    shown = text.rsplit("@", 1)[-1]  # never quote a user name or password pasted into the URL
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CreatioConfigError(f"the {what} {shown!r} must start with https:// or http:// and name a host")
    if "@" in parts.netloc:
        raise CreatioConfigError(
            f"the {what} {shown!r} must not contain a user name or password: "
            "put them in the connection's login and password (or OAuth extras)"
        )
    if parts.scheme == "http" and parts.hostname not in _LOOPBACK and not allow_insecure:
        raise CreatioConfigError(
            f"the {what} {shown!r} uses http://, which would send {secrets} in clear text: "
            "use https://, or set allow_insecure for a throw-away environment"
        )
    return text.rstrip("/")
