"""creatio:// asset URIs: built from a connection's host, normalized by Airflow through the provider's handler."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from airflow_provider_creatio import assets
from airflow_provider_creatio._compat import Asset
from airflow_provider_creatio.get_provider_info import get_provider_info


@pytest.mark.parametrize(
    ("site", "uri"),
    [
        ("https://mysite.creatio.com", "creatio://mysite.creatio.com/Contact"),
        ("https://MySite.Creatio.COM/", "creatio://mysite.creatio.com/Contact"),
        ("https://mysite.creatio.com:443", "creatio://mysite.creatio.com/Contact"),
        ("http://127.0.0.1:80", "creatio://127.0.0.1/Contact"),
        ("http://127.0.0.1:8765", "creatio://127.0.0.1:8765/Contact"),
        ("https://server/creatio", "creatio://server/creatio/Contact"),
        ("https://server/creatio/0/", "creatio://server/creatio/Contact"),
        (
            "https://server/7.15.1.1295_SalesEnterprise",
            "creatio://server/7.15.1.1295_SalesEnterprise/Contact",
        ),
        ("https://[::1]:8443/a/b", "creatio://[::1]:8443/a/b/Contact"),
    ],
)
def test_entity_uri_from_a_connection_host(site: str, uri: str) -> None:
    assert assets.entity_uri(site, "Contact") == uri
    # Airflow's normalization through the handler leaves a built URI as it is.
    assert Asset(uri).uri == uri


def test_entity_uri_refuses_a_bad_entity_or_site() -> None:
    with pytest.raises(ValueError, match="object name"):
        assets.entity_uri("https://mysite.creatio.com", "Contact/1")
    with pytest.raises(ValueError, match="must name a host"):
        assets.entity_uri("mysite.creatio.com", "Contact")


@pytest.mark.parametrize(
    ("written", "normalized"),
    [
        ("creatio://MySite.Creatio.com:443/Contact", "creatio://mysite.creatio.com/Contact"),
        ("CREATIO://mysite.creatio.com/Contact/", "creatio://mysite.creatio.com/Contact"),
        ("creatio://server:80/creatio/UsrInvoice", "creatio://server/creatio/UsrInvoice"),
        ("creatio://server:8443/Case", "creatio://server:8443/Case"),
    ],
)
def test_airflow_normalizes_creatio_uris_through_the_handler(written: str, normalized: str) -> None:
    assert Asset(written).uri == normalized
    assert Asset(uri=written, name="contacts").uri == normalized


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("creatio://mysite.creatio.com", "ends with the entity"),
        ("creatio://mysite.creatio.com/", "ends with the entity"),
        ("creatio:///Contact", "must name the site's host"),
        ("creatio://server//Contact", "ends with the entity"),
        ("creatio://mysite.creatio.com/Contact(1)", "object name"),
        ("creatio://mysite.creatio.com/1Contact", "object name"),
        ("creatio://mysite.creatio.com/Contact?$filter=x", "without a query"),
        ("creatio://mysite.creatio.com:99999/Contact", "bad port"),
    ],
)
def test_an_invalid_creatio_uri_is_a_clear_value_error(uri: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Asset(uri)
    with pytest.raises(ValueError, match=message):
        assets.sanitize_uri(urlsplit(uri))


def test_a_user_name_never_stays_in_a_creatio_uri() -> None:
    uri = "creatio://user@mysite.creatio.com/Contact"
    with pytest.raises(ValueError, match="user name"):
        assets.sanitize_uri(urlsplit(uri))
    # Airflow 3.0 drops user info itself (with a warning) before the handler sees it; 3.3 leaves it to the handler.
    try:
        normalized = Asset(uri).uri
    except ValueError as err:
        assert "user name" in str(err)
    else:
        assert normalized == "creatio://mysite.creatio.com/Contact"


def test_the_factory_builds_the_normalized_asset() -> None:
    asset = assets.create_asset(host="MySite.creatio.com", entity="Contact", extra={"team": "crm"})
    assert (asset.uri, asset.name, asset.extra) == (
        "creatio://mysite.creatio.com/Contact",
        "creatio://mysite.creatio.com/Contact",
        {"team": "crm"},
    )
    assert (
        assets.create_asset(host="https://server/creatio", entity="Case").uri
        == "creatio://server/creatio/Case"
    )


def test_openlineage_namespace_and_name_of_an_asset() -> None:
    assert assets.site_namespace("creatio://MySite.creatio.com/Contact") == (
        "creatio://mysite.creatio.com",
        "Contact",
    )
    assert assets.site_namespace("creatio://server:8443/creatio/Case") == (
        "creatio://server:8443/creatio",
        "Case",
    )


def test_the_provider_registers_the_creatio_scheme() -> None:
    (entry,) = get_provider_info()["asset-uris"]
    assert entry == {
        "schemes": ["creatio"],
        "handler": "airflow_provider_creatio.assets.sanitize_uri",
        "factory": "airflow_provider_creatio.assets.create_asset",
        "to_openlineage_converter": "airflow_provider_creatio.assets.convert_asset_to_openlineage",
    }
    # Registered: Airflow normalizes creatio:// URIs through the handler (the tests above).


def test_the_provider_info_fits_airflows_schema() -> None:
    import json
    from pathlib import Path

    import airflow
    import jsonschema

    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)
