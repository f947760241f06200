"""The probe of the other URL layout and the hint it leads to (client/layout.py), without a site."""

from __future__ import annotations

import pytest

from airflow_provider_creatio.client import layout
from airflow_provider_creatio.client.errors import CreatioNotFoundError
from airflow_provider_creatio.client.http import ApiRequest, Service

NO_ROUTE = "No HTTP resource was found that matches the request URI 'https://site/odata/Contact'."


@pytest.mark.parametrize(
    ("request_", "probed"),
    [
        (ApiRequest("GET", Service.ODATA, "UsrInvoice(3f2504e0-4f89-11d3-9a0c-0305e82c3301)"), "UsrInvoice"),
        (ApiRequest("GET", Service.ODATA, "Contact/$count"), "Contact"),
        (ApiRequest("POST", Service.ODATA, "$batch"), "Contact"),
        (ApiRequest("POST", Service.SERVICE_MODEL, "ProcessEngineService.svc/RunProcess"), "Contact"),
    ],
)
def test_the_probe_reads_no_rows_of_the_same_entity_set_under_the_other_layout(
    request_: ApiRequest, probed: str
) -> None:
    probe = layout.other_layout_probe(request_, net_core=True).request
    assert (probe.method, probe.service, probe.path, probe.params) == (
        "GET",
        Service.ROOT,
        f"0/odata/{probed}",
        (("$top", "0"),),
    )
    assert layout.other_layout_probe(request_, net_core=False).request.path == f"odata/{probed}"


def test_the_hint_names_the_layout_that_answered_and_the_field() -> None:
    assert layout.layout_hint(net_core=False) == (
        "This site answers the .NET Core layout (/odata, /ServiceModel), not the .NET Framework one the "
        "connection asks for: set the connection's net_core field to true."
    )


@pytest.mark.parametrize(
    ("status", "service", "said", "unrouted"),
    [
        (404, Service.ODATA, NO_ROUTE, True),
        (404, Service.SERVICE_MODEL, NO_ROUTE, True),
        (404, Service.ODATA, "Record not found.", False),  # a missing record: the layout is right
        (404, Service.ROOT, NO_ROUTE, False),  # the login lives at the root in both layouts
        (500, Service.ODATA, NO_ROUTE, False),
    ],
)
def test_only_a_routing_404_under_a_layout_root_is_probed(
    status: int, service: Service, said: str, unrouted: bool
) -> None:
    error = CreatioNotFoundError("not found", status=status, server_message=said)
    assert layout.unrouted(error, ApiRequest("GET", service, "Contact")) is unrouted
