"""The one definition of a Creatio connection's extras: the form shows these fields and the hook reads only these.

``get_provider_info()`` builds the Airflow 3.2+ form (``conn-fields`` and the placeholders of
``ui-field-behaviour``) from :data:`FIELDS`, the hook builds the pre-3.2 wtforms widgets from it, and
``CreatioHook.config_from_connection`` reads the extras through :func:`read_extras`.

ProvidersManager imports this module in every Airflow process that looks at providers: it imports nothing but the
standard library (the error class is imported when a value is refused).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

# How a value is shown in the form and parsed by the hook.
Kind = Literal["text", "secret", "choice", "bool", "float", "int"]

_TRUE = frozenset({"true", "1", "yes", "y", "on"})
_FALSE = frozenset({"false", "0", "no", "n", "off", ""})
_JSON_TYPE = {
    "text": "string",
    "secret": "string",
    "choice": "string",
    "bool": "boolean",
    "float": "number",
    "int": "integer",
}
LEGACY_PREFIX = "extra__creatio__"  # the pre-3.2 spelling of an extra's name, still read


@dataclass(frozen=True)
class ConnField:
    """One extra of a Creatio connection.

    ``placeholder``: a hint or sample value for text fields; for switches and numbers the value an empty field
    means (a unit test holds it to ``default``). ``suggest``: offer the placeholder as a value to pick."""

    name: str
    label: str
    description: str
    kind: Kind
    placeholder: str
    default: str | bool | float | None = None
    choices: tuple[str, ...] = ()
    suggest: bool = False

    def schema(self) -> dict[str, Any]:
        """The JSON schema Airflow 3.2+ renders the field from."""
        schema: dict[str, Any] = {"type": [_JSON_TYPE[self.kind], "null"]}
        if self.kind == "secret":
            schema["format"] = "password"  # masked in the form, redacted by the API
        if self.kind == "choice":
            schema["enum"] = list(self.choices)
        if self.kind in ("choice", "bool"):
            schema["default"] = self.default
        if self.suggest:
            # Airflow 3.3's form shows no placeholder of an extra; it offers a string field's examples as
            # suggestions (a datalist, with the hint "Start typing to see options").
            schema["examples"] = [self.placeholder]
        return schema

    def parse(self, value: Any) -> Any:
        """The value the hook uses: ``value`` as stored in the extra, or ``default`` when it is empty."""
        if self.kind == "bool":
            return _as_bool(value, self.name, self.default)
        if self.kind in ("float", "int"):
            return _as_number(value, self.name, float if self.kind == "float" else int, self.default)
        if self.kind == "choice":
            return _as_choice(value, self.name, self.choices, self.default)
        return None if value is None or value == "" else str(value)


FIELDS: tuple[ConnField, ...] = (
    ConnField(
        "auth_type",
        "Auth type",
        "forms: the user name and password above (AuthService.svc login, cookies). oauth: OAuth 2.0 client "
        "credentials of an integrated application (leave user name and password empty).",
        "choice",
        "forms",
        default="forms",
        choices=("forms", "oauth"),
    ),
    ConnField(
        "client_id",
        "OAuth client id",
        "Client id of the OAuth 2.0 integrated application (auth type oauth).",
        "text",
        "client id of the integrated application",
    ),
    ConnField(
        "client_secret",
        "OAuth client secret",
        "Client secret of the OAuth 2.0 integrated application (auth type oauth). Stored masked.",
        "secret",
        "the application's client secret",
    ),
    ConnField(
        "identity_server_url",
        "Identity server URL",
        "Auth type oauth: the Identity Service site, e.g. https://mysite-is.creatio.com (the token endpoint "
        "/connect/token is added). Empty: derived for *.creatio.com sites by adding -is to the first label.",
        "text",
        "https://mysite-is.creatio.com",
        suggest=True,
    ),
    ConnField(
        "net_core",
        ".NET Core layout",
        "On for .NET Core / .NET 6+ sites (no /0/ before ServiceModel and odata).",
        "bool",
        "false",
        default=False,
    ),
    ConnField(
        "verify",
        "Verify TLS",
        "Verify the certificates of the site and the identity server. Switching this off also needs "
        "Allow insecure.",
        "bool",
        "true",
        default=True,
    ),
    ConnField(
        "allow_insecure",
        "Allow insecure",
        "Explicit opt-in for Verify TLS off, or for an http:// site or identity server other than localhost "
        "(credentials in clear text). For throw-away environments only.",
        "bool",
        "false",
        default=False,
    ),
    ConnField(
        "ca_bundle",
        "CA bundle path",
        "Path to a PEM bundle used to verify the certificates of a private CA. Empty: the system's CAs.",
        "text",
        "/etc/ssl/certs/ca-certificates.crt",
        suggest=True,
    ),
    ConnField(
        "connect_timeout",
        "Connect timeout (s)",
        "Seconds to wait for a TCP/TLS connection. Empty: 10.",
        "float",
        "10",
        default=10.0,
    ),
    ConnField(
        "timeout",
        "Request timeout (s)",
        "Read timeout of one request, in seconds. Empty: 120.",
        "float",
        "120",
        default=120.0,
    ),
    ConnField(
        "retry_attempts",
        "Retry attempts",
        "Tries of one request on 429/502/503/504 and network errors, the first included. Empty: 5.",
        "int",
        "5",
        default=5,
    ),
    ConnField(
        "backoff_initial",
        "Retry backoff, first (s)",
        "Advanced: seconds before the second try, doubled each time, with jitter. Empty: 0.5.",
        "float",
        "0.5",
        default=0.5,
    ),
    ConnField(
        "backoff_max",
        "Retry backoff, cap (s)",
        "Advanced: the longest wait between two tries, also caps a Retry-After. Empty: 30.",
        "float",
        "30",
        default=30.0,
    ),
    ConnField(
        "odata_max_filter_nodes",
        "OData filter node limit",
        "Advanced: the site's MaxNodeCount, the most nodes Creatio accepts in one $filter. Filters over it are "
        "refused before they are sent and Id lookups are split to fit. Empty: 100, Creatio's default.",
        "int",
        "100",
        default=100,
    ),
    ConnField(
        "session_mode",
        "Session mode",
        "How the site serves one session's requests. nonblocking: side by side, so parallel bulk writes share "
        "the task's one session (one login). blocking: one at a time, so each parallel lane logs in with a "
        "session of its own (as many logins as lanes). Ask the site's administrator; blocking is safe on both.",
        "choice",
        "nonblocking",
        default="nonblocking",
        choices=("nonblocking", "blocking"),
    ),
)


def conn_fields() -> dict[str, dict[str, Any]]:
    """``conn-fields`` of the connection type in ``get_provider_info()`` (Airflow 3.2+ form)."""
    return {f.name: {"label": f.label, "description": f.description, "schema": f.schema()} for f in FIELDS}


def ui_field_behaviour() -> dict[str, Any]:
    """How the form shows Airflow's standard fields (Airflow's hyphenated keys, as ``get_provider_info`` gives them)."""
    return {
        "hidden-fields": ["schema", "port"],
        "relabeling": {
            "host": "Creatio URL",
            "login": "User name (forms)",
            "password": "Password (forms)",
        },
        "placeholders": {
            "host": "https://mysite.creatio.com",
            "login": "Supervisor",
            "extra": '{"net_core": false, "verify": true}',
            **{f.name: f.placeholder for f in FIELDS},  # the extras' (shown by the pre-3.2 form)
        },
    }


def read_extras(extra: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Every field's value, by name: a non-None override, else the short name (Airflow 3.2+ forms), else the
    legacy ``extra__creatio__<name>``, else the field's default."""
    values: dict[str, Any] = {}
    for field in FIELDS:
        value = overrides.get(field.name)
        if value is None:
            value = extra.get(field.name)
        if value is None or value == "":
            value = extra.get(LEGACY_PREFIX + field.name)
        values[field.name] = field.parse(value)
    return values


def unknown_extras(extra: Mapping[str, Any]) -> list[str]:
    """One line per extra that no field reads (a typo such as ``netcore``), with the closest field's name: the
    hook would otherwise ignore its value in silence."""
    squashed = {_squash(field.name): field.name for field in FIELDS}
    lines = []
    for key in extra:
        name = key.removeprefix(LEGACY_PREFIX)
        if name in squashed.values():
            continue
        guess = difflib.get_close_matches(_squash(name), list(squashed), n=1, cutoff=0.6)
        hint = f"; did you mean {squashed[guess[0]]!r}?" if guess else ""
        lines.append(
            f"connection extra {key!r} is not one the Creatio provider reads, so it has no effect{hint}"
        )
    return lines


def _squash(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def _refuse(message: str) -> Exception:
    from airflow_provider_creatio.client.errors import CreatioConfigError

    return CreatioConfigError(message)


def _as_bool(value: Any, name: str, default: Any) -> bool:
    if value is None:
        return bool(default)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _refuse(f"connection extra {name!r} must be true or false, got {value!r}")


def _as_number(value: Any, name: str, kind: type[float] | type[int], default: Any) -> float | int:
    if value is None or value == "":
        return kind(default)
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise _refuse(f"connection extra {name!r} must be a number, got {value!r}") from None


def _as_choice(value: Any, name: str, choices: tuple[str, ...], default: Any) -> str:
    text = str(value or default).strip().lower()
    if text not in choices:
        raise _refuse(f"connection extra {name!r} must be {' or '.join(choices)}, got {text!r}")
    return text
