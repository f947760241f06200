"""Microsoft's OData validation limits, as the emulator applies them: $filter nodes (counted as the hand counts of
``filter_node_cases`` say), $orderby clauses and $expand depth, answered 400 with the validator's message."""

from __future__ import annotations

import pytest
import requests
from emulator_helpers import login
from filter_node_cases import CASES, Case, ids

from airflow_provider_creatio.testing.emulator import EmulatorServer, EmulatorSettings

NODE_LIMIT = (
    "The node count limit of '{}' has been exceeded. To increase the limit, set the 'MaxNodeCount' property on "
    "EnableQueryAttribute or ODataValidationSettings."
)


def _with(server: EmulatorServer, **settings: object) -> requests.Session:
    server.settings = EmulatorSettings(**settings)  # type: ignore[arg-type]
    server.reset()
    return login(server.url)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_filter_of_n_nodes_passes_a_limit_of_n_and_not_of_n_minus_one(
    creatio: EmulatorServer, case: Case
) -> None:
    shared_emulator = creatio  # default settings first: its URL has no base path another test may have left
    odata = f"{shared_emulator.url}/0/odata/Contact"
    at_limit = _with(shared_emulator, max_filter_nodes=case.server).get(
        odata, params={"$filter": case.filter}
    )
    below = _with(shared_emulator, max_filter_nodes=case.server - 1).get(
        odata, params={"$filter": case.filter}
    )

    assert at_limit.status_code == 200, at_limit.text
    assert below.status_code == 400
    assert below.json() == {"error": {"code": "", "message": NODE_LIMIT.format(case.server - 1)}}


def test_thirty_id_terms_are_refused_by_default_as_creatio_refuses_them(
    creatio: EmulatorServer, api: requests.Session, odata: str
) -> None:
    lookup = {"$filter": ids(30), "$select": "Id"}
    refused = api.get(f"{odata}/Contact", params=lookup)
    in_a_batch = api.post(
        f"{odata}/$batch",
        json={"requests": [{"id": "1", "method": "GET", "url": f"Contact?$filter={ids(30)}"}]},
    )
    count = api.get(f"{odata}/Contact/$count", params={"$filter": ids(30)})

    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == NODE_LIMIT.format(100)
    assert in_a_batch.json()["responses"][0]["status"] == 400
    assert count.status_code == 400
    assert api.get(f"{odata}/Contact", params={"$filter": ids(20)}).status_code == 200


def test_a_binding_error_comes_before_the_node_count(
    creatio: EmulatorServer, api: requests.Session, odata: str
) -> None:
    answer = api.get(f"{odata}/Contact", params={"$filter": f"{ids(30)} or Nope eq 1"})
    assert "Nope" in answer.json()["error"]["message"]


def test_no_filter_limit_when_switched_off(shared_emulator: EmulatorServer) -> None:
    api = _with(shared_emulator, max_filter_nodes=None)
    assert api.get(f"{shared_emulator.url}/0/odata/Contact", params={"$filter": ids(100)}).status_code == 200


def test_orderby_takes_five_clauses(creatio: EmulatorServer, api: requests.Session, odata: str) -> None:
    five = api.get(f"{odata}/Contact", params={"$orderby": "Name,Age,Email,BirthDate desc,Id"})
    six = api.get(f"{odata}/Contact", params={"$orderby": "Name,Age,Email,BirthDate desc,Id,Phone"})

    assert five.status_code == 200, five.text
    assert six.status_code == 400
    assert six.json()["error"]["message"] == (
        "The number of clauses in $orderby query option exceeded the maximum number allowed. The maximum number "
        "of $orderby clauses allowed is 5."
    )


@pytest.mark.parametrize(
    ("expand", "depth"),
    [("Account", 1), ("Account,Owner", 1), ("Account($expand=Owner)", 2), ("Account($select=Name;$expand=Owner)", 2),
     ("Account($expand=Owner($expand=Account))", 3), ("Account/Owner", 2)],
)  # fmt: skip
def test_expand_depth(expand: str, depth: int) -> None:
    from airflow_provider_creatio.testing.emulator.odata_limits import expand_depth

    assert expand_depth(expand) == depth


def test_an_expand_three_levels_deep_is_refused(
    creatio: EmulatorServer, api: requests.Session, odata: str
) -> None:
    deep = {"$expand": "Account($expand=Owner($expand=Account))"}
    listed = api.get(f"{odata}/Contact", params=deep)
    one = api.get(f"{odata}/Contact(410006e1-ca4e-4502-a9ec-e54d922d2c00)", params=deep)

    message = (
        "The request includes a $expand path which is too deep. The maximum depth allowed is 2. To increase the "
        "limit, set the 'MaxExpansionDepth' property on EnableQueryAttribute or ODataValidationSettings."
    )
    assert listed.status_code == one.status_code == 400
    assert listed.json()["error"]["message"] == one.json()["error"]["message"] == message


def test_the_limits_are_settings_and_command_line_flags() -> None:
    from airflow_provider_creatio.testing.emulator.__main__ import parse_args

    args = parse_args(["--max-filter-nodes", "500", "--max-orderby-clauses", "0"])
    assert (args.max_filter_nodes, args.max_orderby_clauses, args.max_expansion_depth) == (500, None, 2)
    with pytest.raises(ValueError, match="max_filter_nodes"):
        EmulatorSettings(max_filter_nodes=0)
