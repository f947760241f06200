"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_provider_creatio import __version__
from airflow_provider_creatio.hooks.connection_form import conn_fields, ui_field_behaviour

_PKG = "airflow_provider_creatio"


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
                # The extras, stored flat in the connection's ``extra`` (Airflow 3.2+ declarative form).
                "conn-fields": conn_fields(),
                "ui-field-behaviour": ui_field_behaviour(),
            }
        ],
        "extra-links": [f"{_PKG}.links.CreatioProcessLogLink"],
        # creatio://{host}[/{base path}]/{Entity}: what the operators emit and read (docs/guides/lineage.md).
        "asset-uris": [
            {
                "schemes": ["creatio"],
                "handler": f"{_PKG}.assets.sanitize_uri",
                "factory": f"{_PKG}.assets.create_asset",
                "to_openlineage_converter": f"{_PKG}.assets.convert_asset_to_openlineage",
            }
        ],
        "hooks": [{"integration-name": "Creatio", "python-modules": [f"{_PKG}.hooks.creatio"]}],
        "operators": [
            {
                "integration-name": "Creatio",
                "python-modules": [
                    f"{_PKG}.operators.process",
                    f"{_PKG}.operators.entity",
                    f"{_PKG}.operators.files",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "Creatio",
                "python-modules": [f"{_PKG}.sensors.process", f"{_PKG}.sensors.entity"],
            }
        ],
        # Object storage is Airflow's own (the Common IO provider's integration): files to and from Creatio.
        "transfers": [
            {
                "source-integration-name": "Creatio",
                "target-integration-name": "Common IO",
                "python-module": f"{_PKG}.transfers.creatio_to_object_storage",
            },
            {
                "source-integration-name": "Common IO",
                "target-integration-name": "Creatio",
                "python-module": f"{_PKG}.transfers.object_storage_to_creatio",
            },
            {
                "source-integration-name": "Creatio",
                "target-integration-name": "Common IO",
                "python-module": f"{_PKG}.transfers.creatio_files_to_object_storage",
            },
            {
                "source-integration-name": "Common IO",
                "target-integration-name": "Creatio",
                "python-module": f"{_PKG}.transfers.object_storage_to_creatio_files",
            },
        ],
        "triggers": [
            {
                "integration-name": "Creatio",
                "python-modules": [
                    f"{_PKG}.triggers.process",
                    f"{_PKG}.triggers.entity",
                    f"{_PKG}.triggers.record_change",
                ],
            }
        ],
    }
