"""The Creatio site the example DAGs expect: the emulator's starting data, plus the custom reporting object of the
nightly contact sync and three contacts changed just now for it to find. ``make demo`` and the deployment tier
prepare an emulator with it, through the emulator's admin API and the client, as any integration would."""

from __future__ import annotations

import json
import urllib.request

from airflow_provider_creatio.client import CreatioClient, CreatioConfig, odata
from airflow_provider_creatio.testing.emulator import EmulatorSettings

# The reporting object the nightly sync writes to: a custom (Usr) entity a Creatio team would add.
CUSTOM_ENTITIES = {
    "UsrContactCopy": {
        "Name": "text",
        "Email": "text",
        "Phone": "text",
        "JobTitle": "text",
        "Account": "lookup:Account",
        "SourceModifiedOn": "datetime",
    }
}
CHANGED_CONTACTS = [
    ("Ada Lovelace", "ADA@Example.com"),
    ("Grace Hopper", "grace@example.com "),
    ("Alan Turing", ""),
]


def _admin(url: str, action: str, body: object) -> None:
    request = urllib.request.Request(
        f"{url}/__emulator__/{action}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=10).close()


def prepare_example_site(url: str, settings: EmulatorSettings | None = None) -> None:
    """Reset the emulator at ``url`` (serving ``settings``, default: the CLI's) to its starting data, add the custom
    entity, and create the changed contacts as the emulator's user."""
    settings = settings or EmulatorSettings()
    _admin(url, "settings", {"custom_entities": CUSTOM_ENTITIES})
    _admin(url, "reset", {})
    config = CreatioConfig(
        base_url=url, username=settings.username, password=settings.password, net_core=settings.net_core
    )
    with CreatioClient(config) as client:
        for name, email in CHANGED_CONTACTS:
            client.execute(
                odata.create_record("Contact", {"Name": name, "Email": email, "MobilePhone": "+1 (555) 010"})
            )
