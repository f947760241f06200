"""Operator extra link: the process log card of the instance a task started or followed."""

from __future__ import annotations

from typing import Any

from airflow_provider_creatio._compat import BaseOperatorLink

# The classic UI route of the Process log card (SysProcessLog). It lives under /0/ in both layouts.
PROCESS_LOG_CARD = "{base}/0/Nui/ViewModule.aspx#CardModuleV2/SysProcessLogPage/edit/{process_id}"


def process_log_url(base_url: str, process_id: str) -> str:
    return PROCESS_LOG_CARD.format(base=base_url.rstrip("/"), process_id=process_id)


class CreatioProcessLogLink(BaseOperatorLink):  # type: ignore[misc]
    """Opens the Creatio process log card of the process instance (``process_id`` in XCom).

    Airflow 3 evaluates the link in the worker when the task finishes and stores it in XCom; the operator keeps
    the URL on itself once the process id is known."""

    name = "Creatio process log"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        return str(getattr(operator, "process_log_url", None) or "")
