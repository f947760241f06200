"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_provider_creatio import __version__

_PKG = "airflow_provider_creatio"

# Connection-form extras (Airflow 3.2+ declarative form). Stored flat in the connection's ``extra``.
CONN_FIELDS: dict[str, dict[str, Any]] = {
    "auth_type": {
        "label": "Auth type",
        "description": "forms: the user name and password below (AuthService.svc login, cookies). "
        "oauth: OAuth 2.0 client credentials of an integrated application (leave user name and password empty).",
        "schema": {"type": ["string", "null"], "enum": ["forms", "oauth"], "default": "forms"},
    },
    "client_id": {
        "label": "OAuth client id",
        "description": "Client id of the OAuth 2.0 integrated application (auth type oauth).",
        "schema": {"type": ["string", "null"]},
    },
    "client_secret": {
        "label": "OAuth client secret",
        "description": "Client secret of the OAuth 2.0 integrated application (auth type oauth).",
        "schema": {"type": ["string", "null"], "format": "password"},
    },
    "identity_server_url": {
        "label": "Identity server URL",
        "description": "Auth type oauth: the Identity Service site, e.g. https://mysite-is.creatio.com "
        "(the token endpoint /connect/token is added). Empty: derived for *.creatio.com sites.",
        "schema": {"type": ["string", "null"]},
    },
    "net_core": {
        "label": ".NET Core layout",
        "description": "On for .NET Core / .NET 6+ sites (no /0/ before ServiceModel and odata).",
        "schema": {"type": ["boolean", "null"], "default": False},
    },
    "verify": {
        "label": "Verify TLS",
        "description": "Switching this off also needs the extra allow_insecure: true.",
        "schema": {"type": ["boolean", "null"], "default": True},
    },
    "ca_bundle": {
        "label": "CA bundle path",
        "description": "Path to a PEM bundle used to verify the Creatio certificate.",
        "schema": {"type": ["string", "null"]},
    },
    "timeout": {
        "label": "Request timeout (s)",
        "description": "Read timeout of one request, in seconds. The connect timeout is 10 s.",
        "schema": {"type": ["number", "null"], "default": 120},
    },
    "retry_attempts": {
        "label": "Retry attempts",
        "description": "Tries of one request on 429/502/503/504 and network errors, the first included.",
        "schema": {"type": ["integer", "null"], "default": 5},
    },
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-creatio",
        "name": "Creatio",
        "description": "Run Creatio business processes, manage Creatio records over OData 4, and wait on both.",
        "versions": [__version__],
        "connection-types": [
            {
                "connection-type": "creatio",
                "hook-class-name": f"{_PKG}.hooks.creatio.CreatioHook",
                "hook-name": "Creatio",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {
                        "host": "Creatio URL",
                        "login": "User name (forms)",
                        "password": "Password (forms)",
                    },
                    "placeholders": {
                        "host": "https://mysite.creatio.com",
                        "login": "Supervisor",
                        "identity_server_url": "https://mysite-is.creatio.com",
                        "extra": '{"net_core": false, "verify": true}',
                    },
                },
            }
        ],
        "extra-links": [f"{_PKG}.links.CreatioProcessLogLink"],
        "hooks": [{"integration-name": "Creatio", "python-modules": [f"{_PKG}.hooks.creatio"]}],
        "operators": [
            {
                "integration-name": "Creatio",
                "python-modules": [f"{_PKG}.operators.process", f"{_PKG}.operators.entity"],
            }
        ],
        "sensors": [
            {
                "integration-name": "Creatio",
                "python-modules": [f"{_PKG}.sensors.process", f"{_PKG}.sensors.entity"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Creatio",
                "python-modules": [f"{_PKG}.triggers.process", f"{_PKG}.triggers.entity"],
            }
        ],
    }
