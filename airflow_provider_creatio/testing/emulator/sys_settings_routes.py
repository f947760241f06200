"""DataService ``QuerySysSettings`` under ``{app}/0/DataService/json/SyncReply`` (and ``{app}/DataService/...`` on
.NET Core): the values of system settings by code, as Creatio's own pages and clients read them
(``{"sysSettingsNameCollection": [codes]}`` in, ``{"success": true, "values": {code: {"value": ...}}}`` out; a code
the site does not have is left out). The emulator answers the settings its own behaviour follows: the upload
limits of the files (``MaxFileSize`` in MB, ``FileExtensionsAllowList``, ``FileExtensionsDenyList``;
docs/creatio-notes/file-limits.md and query-sys-settings.md).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from airflow_provider_creatio.testing.emulator.replies import Reply, aspnet_error
from airflow_provider_creatio.testing.emulator.settings import EmulatorSettings
from airflow_provider_creatio.testing.emulator.state import EmulatorState

QUERY_PATH = "/json/SyncReply/QuerySysSettings"
TEXT, INTEGER, FLOAT = 1, 4, 6  # Creatio's DataValueType codes of the values answered here


def routes(state: EmulatorState) -> list[Route]:
    async def query(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            codes = body["sysSettingsNameCollection"]
            if not isinstance(codes, list):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            message = 'The request body must be {"sysSettingsNameCollection": [<codes>]}.'
            return aspnet_error(400, message, "System.ArgumentException").to_response()
        known = site_settings(state.settings)
        values = {code: known[code] for code in codes if code in known}
        return Reply(200, {"success": True, "values": values}, rows_returned=len(values)).to_response()

    return [Route(QUERY_PATH, query, methods=["POST"])]


def site_settings(settings: EmulatorSettings) -> dict[str, dict[str, Any]]:
    """The system settings the emulator's behaviour follows, as QuerySysSettings answers each."""
    found = {
        "FileExtensionsDenyList": _text(",".join(settings.file_extensions_deny)),
        "FileExtensionsAllowList": _text(",".join(settings.file_extensions_allow or ())),
    }
    if settings.max_file_size is not None:
        megabytes = settings.max_file_size / 2**20
        whole = megabytes.is_integer()
        found["MaxFileSize"] = {
            "value": int(megabytes) if whole else megabytes,
            "dataValueType": INTEGER if whole else FLOAT,
        }
    return found


def _text(value: str) -> dict[str, Any]:
    return {"value": value, "dataValueType": TEXT}
