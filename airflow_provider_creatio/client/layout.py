"""Which URL layout a site answers, asked only after a request was refused as if its path did not exist.

A .NET Framework site serves ``/0/odata`` and ``/0/ServiceModel``, a .NET Core site ``/odata`` and
``/ServiceModel``; the connection's ``net_core`` field chooses. With the wrong one, Creatio's routing answers 404
("No HTTP resource was found that matches the request URI ..."), which names neither the layout nor the field.
After such an answer the hook sends one probe: the same entity set (``Contact`` for a service path, ``$batch`` or
``$metadata``: every site has it) read with ``$top=0`` under the other layout. If that layout answers, the error
says so and names the field. No I/O here.
"""

from __future__ import annotations

from airflow_provider_creatio.client.errors import CreatioError
from airflow_provider_creatio.client.http import ApiRequest, ApiResponse, Call, Service

# The start of the routing answer ({"Message", "MessageDetail"}) for a path nothing serves.
_NO_ROUTE = "No HTTP resource was found that matches the request URI"
_PROBED_ENTITY = "Contact"  # on every Creatio site, as the connection test assumes
_LAYOUTS = {
    False: (".NET Framework", "/0/odata, /0/ServiceModel"),
    True: (".NET Core", "/odata, /ServiceModel"),
}


def unrouted(error: CreatioError, request: ApiRequest) -> bool:
    """Whether ``error`` is Creatio's routing 404 for an OData or ServiceModel path: the answer a wrong layout
    gets (and an unknown entity set, which the probe tells apart)."""
    return (
        error.status == 404
        and request.service in (Service.ODATA, Service.SERVICE_MODEL, Service.APP)
        and _NO_ROUTE in (error.server_message or "")
    )


def other_layout_probe(request: ApiRequest, net_core: bool) -> Call[bool]:
    """A read of no rows under the layout other than the connection's (``net_core``): True when it answers 2xx."""
    prefix = "0/odata" if net_core else "odata"
    probe = ApiRequest(
        "GET",
        Service.ROOT,
        f"{prefix}/{_entity_set(request)}",
        params=(("$top", "0"),),
        operation="probe the other URL layout",
    )

    def parse(response: ApiResponse) -> bool:
        return 200 <= response.status < 300

    return Call(probe, parse, accept_statuses=frozenset(range(400, 600)))


def _entity_set(request: ApiRequest) -> str:
    if request.service is Service.ODATA:
        name = request.path.split("(", 1)[0].split("/", 1)[0]
        if name and not name.startswith("$"):
            return name
    return _PROBED_ENTITY


def layout_hint(net_core: bool) -> str:
    """What to tell a user whose connection asks for the ``net_core`` layout while the site answers the other."""
    name, paths = _LAYOUTS[not net_core]
    asked, _ = _LAYOUTS[net_core]
    return (
        f"This site answers the {name} layout ({paths}), not the {asked} one the connection asks for: "
        f"set the connection's net_core field to {str(not net_core).lower()}."
    )
