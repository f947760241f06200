"""Creatio's $filter node limit from the client's side: a user's filter over it is refused before any request, with
its count and the limit; a raised limit (the connection extra) lets it go, and then Creatio's own refusal comes back;
the upsert lookups fit whatever the limit."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from airflow_provider_creatio.client.errors import CreatioBadRequestError, CreatioValidationError
from airflow_provider_creatio.hooks.creatio import CreatioHook
from airflow_provider_creatio.testing.connection import connection_env_name, emulator_connection_json

pytestmark = pytest.mark.creatio_every_site

THIRTY = [str(uuid.UUID(int=number + 1)) for number in range(30)]
RAW = " or ".join(f"Id eq {record_id}" for record_id in THIRTY)


@pytest.mark.parametrize("user_filter", [RAW, {"Id": THIRTY}], ids=["raw", "mapping"])
def test_a_filter_of_30_id_terms_is_refused_before_any_request(
    creatio_connection: Any, user_filter: Any
) -> None:
    creatio_connection.state.log.clear()
    with CreatioHook() as hook, pytest.raises(CreatioValidationError) as caught:
        hook.query_page("Contact", filter=user_filter)
    assert "149 nodes, over Creatio's limit of 100" in str(caught.value)
    assert creatio_connection.requests == []  # not even a login


def test_the_same_filter_sent_anyway_gets_creatios_refusal(
    creatio_connection: Any, creatio_auth_type: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The connection says the site takes 500 nodes; the emulated site keeps Microsoft's default of 100.
    connection = emulator_connection_json(creatio_connection, creatio_auth_type, odata_max_filter_nodes=500)
    monkeypatch.setenv(connection_env_name("creatio_default"), connection)
    with CreatioHook() as hook, pytest.raises(CreatioBadRequestError) as caught:
        hook.query_page("Contact", filter=RAW)
    assert "The node count limit of '100' has been exceeded." in str(caught.value)


def test_a_site_with_a_raised_limit_takes_it(
    creatio_connection: Any, creatio_auth_type: str, monkeypatch: Any
) -> None:
    creatio_connection.settings.max_filter_nodes = 500
    connection = emulator_connection_json(creatio_connection, creatio_auth_type, odata_max_filter_nodes=500)
    monkeypatch.setenv(connection_env_name("creatio_default"), connection)
    with CreatioHook() as hook:
        assert hook.query_page("Contact", filter=RAW).records == []


def test_a_keyset_read_refuses_a_filter_the_paging_condition_would_push_over_the_limit(
    creatio_connection: Any,
) -> None:
    # 18 Ids: 89 nodes, within the limit alone; with the (ModifiedOn, Id) condition (14) and its 'and': 104
    user_filter = {"Id": THIRTY[:18]}
    creatio_connection.state.log.clear()
    with CreatioHook() as hook:
        assert hook.query_page("Contact", filter=user_filter).records == []
        with pytest.raises(CreatioValidationError, match="with the keyset paging condition has 104 nodes"):
            next(hook.iter_keyset("Contact", filter=user_filter, column="ModifiedOn"))
    assert creatio_connection.count("GET", "/Contact") == 1  # the plain query only


@pytest.mark.parametrize("limit", [100, 37])
def test_the_upsert_lookups_fit_the_sites_limit(
    creatio_connection: Any, creatio_auth_type: str, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    creatio_connection.settings.max_filter_nodes = limit
    connection = emulator_connection_json(creatio_connection, creatio_auth_type, odata_max_filter_nodes=limit)
    monkeypatch.setenv(connection_env_name("creatio_default"), connection)
    existing = [str(uuid.UUID(int=number + 1_000)) for number in range(300)]
    for record_id in existing[::2]:
        creatio_connection.store.insert("Account", {"Id": record_id, "Name": "old"})
    with CreatioHook() as hook:
        report = hook.bulk_records("upsert", "Account", [{"Id": i, "Name": "new"} for i in existing])
    assert report.tally().actions == {"updated": 150, "created": 150}
    assert {row["Name"] for row in creatio_connection.store.rows("Account") if row["Id"] in existing} == {
        "new"
    }
