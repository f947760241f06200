"""Provider registration and the connection -> client configuration mapping (pure: no network)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_creatio._compat import Connection
from airflow_provider_creatio.client.config import AuthType, CreatioConfig, SessionMode
from airflow_provider_creatio.client.errors import CreatioConfigError
from airflow_provider_creatio.get_provider_info import get_provider_info
from airflow_provider_creatio.hooks.connection_form import FIELDS, LEGACY_PREFIX, ConnField, unknown_extras
from airflow_provider_creatio.hooks.creatio import CreatioHook


def conn(host: str = "https://mysite.creatio.com", **extra: object) -> Connection:
    return Connection(
        conn_id="c",
        conn_type="creatio",
        host=host,
        login="Supervisor",
        password="pw",
        extra=json.dumps(extra),
    )


def test_provider_info_declares_the_creatio_connection_type() -> None:
    info = get_provider_info()
    (conn_type,) = info["connection-types"]
    assert conn_type["connection-type"] == "creatio"
    assert conn_type["hook-name"] == "Creatio"
    assert conn_type["hook-class-name"] == "airflow_provider_creatio.hooks.creatio.CreatioHook"
    behaviour = conn_type["ui-field-behaviour"]
    assert behaviour["relabeling"] == {
        "host": "Creatio URL",
        "login": "User name (forms)",
        "password": "Password (forms)",
    }
    assert set(behaviour["hidden-fields"]) == {"schema", "port"}
    fields = conn_type["conn-fields"]
    assert fields["client_secret"]["schema"]["format"] == "password"
    assert fields["verify"]["schema"]["default"] is True
    assert fields["auth_type"]["schema"]["enum"] == ["forms", "oauth"]
    # Airflow 3.3 shows an extra's examples, not its placeholder: the identity server URL offers its sample.
    assert fields["identity_server_url"]["schema"]["examples"] == ["https://mysite-is.creatio.com"]


def test_provider_info_declares_the_transfers_and_their_modules_import() -> None:
    import importlib

    transfers = get_provider_info()["transfers"]
    assert {(item["source-integration-name"], item["target-integration-name"]) for item in transfers} == {
        ("Creatio", "Common IO"),
        ("Common IO", "Creatio"),
    }
    for item in transfers:
        importlib.import_module(item["python-module"])


def test_the_pre_3_2_form_behaviour_passes_airflows_own_schema() -> None:
    """Airflow < 3.2 validates get_ui_field_behaviour() against this schema and drops the form's relabelling and
    hidden fields when it fails; the content is the provider info's."""
    from pathlib import Path

    import airflow
    import jsonschema

    schema_path = Path(airflow.__file__).parent / "customized_form_field_behaviours.schema.json"
    behaviour = CreatioHook.get_ui_field_behaviour()
    jsonschema.validate(behaviour, json.loads(schema_path.read_text()))
    declared = get_provider_info()["connection-types"][0]["ui-field-behaviour"]
    assert behaviour == {
        "hidden_fields": ["schema", "port"],
        "relabeling": declared["relabeling"],
        "placeholders": declared["placeholders"],
    }


def test_every_extra_is_a_form_field_with_label_description_and_placeholder() -> None:
    (conn_type,) = get_provider_info()["connection-types"]
    placeholders = conn_type["ui-field-behaviour"]["placeholders"]
    assert list(conn_type["conn-fields"]) == [f.name for f in FIELDS]
    for field in FIELDS:
        spec = conn_type["conn-fields"][field.name]
        assert spec["label"] and spec["description"], field.name
        assert placeholders[field.name] == field.placeholder != "", field.name


def test_a_switch_or_number_placeholder_is_what_an_empty_field_means() -> None:
    for field in FIELDS:
        if field.kind in ("bool", "float", "int"):
            assert field.parse(field.placeholder) == field.parse(None) == field.default, field.name


def test_the_forms_defaults_are_the_clients() -> None:
    assert CreatioHook.config_from_connection(conn()) == CreatioConfig(
        base_url="https://mysite.creatio.com", username="Supervisor", password="pw"
    )


class RecordingExtra(dict[str, object]):
    """An ``extra`` that notes every key read from it."""

    read: set[str]

    def get(self, key: str, default: object = None) -> object:  # type: ignore[override]
        self.read.add(key)
        return super().get(key, default)


# A value different from the default for each extra, and where the configuration shows it.
NON_DEFAULTS: dict[str, tuple[object, Callable[[CreatioConfig], bool]]] = {
    "auth_type": ("oauth", lambda c: c.auth_type is AuthType.OAUTH),
    "client_id": ("id-1", lambda c: c.client_id == "id-1"),
    "client_secret": ("s3cret", lambda c: c.client_secret == "s3cret"),
    "identity_server_url": ("https://is.example", lambda c: c.identity_server_url == "https://is.example"),
    "net_core": ("true", lambda c: c.net_core is True),
    "verify": (False, lambda c: c.verify is False),
    "allow_insecure": (True, lambda c: c.allow_insecure is True),
    "ca_bundle": ("/etc/ca.pem", lambda c: c.verify == "/etc/ca.pem"),
    "connect_timeout": ("3", lambda c: c.connect_timeout == 3.0),
    "timeout": (30, lambda c: c.read_timeout == 30.0),
    "retry_attempts": ("2", lambda c: c.retry.attempts == 2),
    "backoff_initial": (0.1, lambda c: c.retry.backoff_initial == 0.1),
    "backoff_max": ("4", lambda c: c.retry.backoff_max == 4.0),
    "odata_max_filter_nodes": ("500", lambda c: c.odata_max_filter_nodes == 500),
    "session_mode": ("Blocking", lambda c: c.session_mode is SessionMode.BLOCKING),
}
# Each field is set on top of these (minus itself): enough for auth_type oauth and for verify off.
BASE = {"client_id": "id", "client_secret": "s", "allow_insecure": True}


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.name)
@pytest.mark.parametrize("prefix", ["", LEGACY_PREFIX], ids=["short", "legacy"])
def test_each_form_field_reaches_the_configuration(field: ConnField, prefix: str) -> None:
    value, shows = NON_DEFAULTS[field.name]
    extra = {**{k: v for k, v in BASE.items() if k != field.name}, prefix + field.name: value}
    assert shows(CreatioHook.config_from_connection(conn("https://x.creatio.com", **extra)))


def test_the_hook_reads_no_extra_the_form_lacks() -> None:
    assert set(NON_DEFAULTS) == {f.name for f in FIELDS}
    extra = RecordingExtra({name: value for name, (value, _) in NON_DEFAULTS.items()})
    extra.read = set()
    c = conn("https://x.example")
    c.extra = json.dumps(dict(extra))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(type(c), "extra_dejson", property(lambda _: extra))
        config = CreatioHook.config_from_connection(c)
    assert config.auth_type is AuthType.OAUTH and config.verify is False
    names = {f.name for f in FIELDS}
    assert extra.read <= names | {LEGACY_PREFIX + n for n in names}
    assert names <= extra.read


def test_every_module_named_in_provider_info_imports() -> None:
    info = get_provider_info()
    modules = [
        m
        for section in ("hooks", "operators", "sensors", "triggers")
        for item in info[section]
        for m in item["python-modules"]
    ]
    code = "import importlib,sys\nfor m in sys.argv[1:]: importlib.import_module(m)"
    subprocess.run([sys.executable, "-c", code, *modules], check=True)


def test_operator_modules_import_no_http_library() -> None:
    """DAG files are parsed again and again: importing operators and sensors must not pull in an HTTP library
    (or anything else heavy) beyond what Airflow's own Task SDK already loaded."""
    code = (
        "import sys\n"
        "import airflow.sdk\n"
        "before = set(sys.modules)\n"
        "import airflow_provider_creatio.operators.entity, airflow_provider_creatio.operators.process\n"
        "import airflow_provider_creatio.sensors.entity, airflow_provider_creatio.sensors.process\n"
        "new = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(sorted(new & {'requests', 'httpx', 'urllib3', 'tenacity', 'yaml'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_connection_maps_to_config() -> None:
    config = CreatioHook.config_from_connection(
        conn(net_core="true", timeout="30", retry_attempts=7, verify=True, ca_bundle="/etc/ca.pem")
    )
    assert config.base_url == "https://mysite.creatio.com"
    assert config.net_core is True
    assert config.read_timeout == 30.0
    assert config.retry.attempts == 7
    assert config.verify == "/etc/ca.pem"
    assert config.auth_type is AuthType.FORMS


def test_prefixed_extras_and_overrides() -> None:
    config = CreatioHook.config_from_connection(
        conn(**{"extra__creatio__net_core": True, "extra__creatio__retry_attempts": "2"}), retry_attempts=9
    )
    assert config.net_core is True
    assert config.retry.attempts == 9


def test_a_pasted_slash_zero_is_dropped_and_port_is_kept() -> None:
    c = conn(host="http://127.0.0.1/0/")
    c.port = 8765
    assert CreatioHook.config_from_connection(c).base_url == "http://127.0.0.1:8765"


@pytest.mark.parametrize(
    ("host", "port", "base_url"),
    [
        pytest.param("https://mysite.creatio.com", None, "https://mysite.creatio.com", id="no-port"),
        pytest.param("https://mysite.creatio.com", 8443, "https://mysite.creatio.com:8443", id="port-added"),
        pytest.param(
            "https://mysite.creatio.com/0/", 8443, "https://mysite.creatio.com:8443", id="before-slash-0"
        ),
        pytest.param("http://127.0.0.1/site", 8765, "http://127.0.0.1:8765/site", id="path-kept"),
        pytest.param(
            "https://mysite.creatio.com:444", 8443, "https://mysite.creatio.com:444", id="url-port-wins"
        ),
    ],
)
def test_the_connection_port_goes_into_the_url(host: str, port: int | None, base_url: str) -> None:
    c = conn(host=host)
    c.port = port
    assert CreatioHook.config_from_connection(c).base_url == base_url


def test_uri_form_with_percent_encoded_host() -> None:
    # The metadata-database model parses a URI (an AIRFLOW_CONN_* variable) in every Airflow 3; the Task SDK's
    # Connection only from 3.2.
    from airflow.models.connection import Connection as StoredConnection

    c = StoredConnection(
        conn_id="c", uri="creatio://Supervisor:pw@https%3A%2F%2Fmysite.creatio.com?net_core=true"
    )
    config = CreatioHook.config_from_connection(c)
    assert config.base_url == "https://mysite.creatio.com"
    assert config.net_core is True


def test_oauth_connection() -> None:
    config = CreatioHook.config_from_connection(
        conn(auth_type="oauth", client_id="id", client_secret="s3cret")
    )
    assert config.auth_type is AuthType.OAUTH
    assert config.token_url == "https://mysite-is.creatio.com/connect/token"
    assert "s3cret" not in repr(config)


@pytest.mark.parametrize(
    ("host", "extra", "message"),
    [
        pytest.param("", {}, "is empty", id="empty-host"),
        pytest.param("mysite.creatio.com", {}, "must start with https://", id="no-scheme"),
        pytest.param(
            "https://x.example", {"verify": False}, "insecure mode was not allowed", id="verify-off"
        ),
        pytest.param("http://crm.example.com", {}, "would send the password", id="http-off-loopback"),
        pytest.param("https://x.example", {"auth_type": "kerberos"}, "forms or oauth", id="auth-type"),
        pytest.param(
            "https://x.example", {"net_core": "maybe"}, "'net_core' must be true or false", id="bool"
        ),
        pytest.param("https://x.example", {"timeout": "soon"}, "'timeout' must be a number", id="number"),
    ],
)
def test_bad_connections_are_refused(host: str, extra: dict[str, object], message: str) -> None:
    with pytest.raises(CreatioConfigError, match=message):
        CreatioHook.config_from_connection(conn(host, **extra))


def test_insecure_needs_explicit_opt_in() -> None:
    config = CreatioHook.config_from_connection(conn("https://x.example", verify=False, allow_insecure=True))
    assert config.verify is False
    plain = CreatioHook.config_from_connection(conn("http://crm.example.com", allow_insecure=True))
    assert plain.base_url == "http://crm.example.com"
    assert (
        CreatioHook.config_from_connection(conn("http://127.0.0.1:8765")).base_url == "http://127.0.0.1:8765"
    )


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"net_core": True, "extra__creatio__timeout": 5}, []),
        (
            {"netcore": True},
            [
                "'netcore' is not one the Creatio provider reads, so it has no effect; did you mean 'net_core'?"
            ],
        ),
        (
            {"Auth-Type": "oauth"},
            [
                "'Auth-Type' is not one the Creatio provider reads, so it has no effect; did you mean 'auth_type'?"
            ],
        ),
        (
            {"extra__creatio__clientid": "x"},
            [
                "'extra__creatio__clientid' is not one the Creatio provider reads, so it has no effect; did you mean 'client_id'?"
            ],
        ),
        ({"zzz": 1}, ["'zzz' is not one the Creatio provider reads, so it has no effect"]),
    ],
)
def test_an_extra_no_field_reads_is_named_with_the_closest_field(
    extra: dict[str, Any], named: list[str]
) -> None:
    assert unknown_extras(extra) == [f"connection extra {line}" for line in named]
