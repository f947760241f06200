"""The connection form and the connections list's Test button, in a real Airflow API server and a real browser.

Headless Chromium (Debian's ``chromium`` package, never a browser Playwright downloads) logs in through the UI,
adds a forms and an OAuth connection to the emulator through the Creatio form, and presses Test in the
connections list. Airflow 3.3.2's list sends ``port: 0`` for them; the provider's plugin makes that pass.
Screenshots land in ``tests/.screenshots/`` (git-ignored).
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio.hooks.connection_form import FIELDS
from airflow_provider_creatio.testing.deployment import ADMIN_USER, AirflowDeployment
from airflow_provider_creatio.testing.emulator import EmulatorServer

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    if os.environ.get("CI"):  # CI installs it (.ci/run): there a missing browser is a failure, not a skip
        raise RuntimeError(f"no Chromium at {CHROMIUM}: .ci/run apt-installs it before the tests")
    pytest.skip(
        "no Chromium at /usr/bin/chromium (apt-get install chromium): the browser test needs it",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install .[test])"
)

# The switches that keep headless Chromium off the network and away from anything but the page under test.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / ".screenshots"


@pytest.fixture(scope="module")
def airflow_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowDeployment]:
    """An Airflow of its own with only the api-server: the connections made here stay out of the deployment
    tier's shared Airflow (whose tests look for secrets in its logs)."""
    root = tmp_path_factory.mktemp("airflow-ui")
    (root / "dags").mkdir()
    airflow = AirflowDeployment(root / "airflow", root / "dags", password=secrets.token_urlsafe(16))
    try:
        airflow.start(["api-server"])
        yield airflow
    finally:
        airflow.stop()


@pytest.fixture(scope="module")
def creatio() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture(scope="module")
def page(airflow_ui: AirflowDeployment) -> Iterator[Any]:
    """A browser page logged in to the UI as the admin."""
    url = airflow_ui.api_url
    SCREENSHOTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})
        page.set_default_timeout(30_000)
        page.goto(f"{url}/")
        page.get_by_label("Username").fill(ADMIN_USER)
        fill_secret(page.get_by_label("Password"), airflow_ui.password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{url}/")
        yield page
        browser.close()


def open_creatio_form(page: Any, url: str, conn_id: str, host: str) -> None:
    """The add form of a Creatio connection, with the Creatio URL filled in and the standard fields open."""
    page.goto(f"{url}/connections")
    page.get_by_role("button", name="Add Connection").click()
    page.get_by_label("Connection ID").fill(conn_id)
    page.get_by_role("combobox").last.fill("Creatio")
    page.keyboard.press("Enter")
    page.get_by_label("Creatio URL").fill(host)


def show_extras(page: Any) -> None:
    """Open the extra fields (which folds the standard ones away)."""
    page.get_by_role("button", name="Extra Fields", exact=True).click()


def fill_extra(page: Any, name: str, value: str) -> None:
    page.locator(f"[name='element_{name}']").fill(value)


def fill_secret(field: Any, value: str) -> None:
    """Playwright's errors quote what was typed: a failure here says which field, never the value."""
    try:
        field.fill(value)
    except sync_api.Error:
        raise AssertionError("could not fill a secret field") from None


def save(page: Any, screenshot: str) -> None:
    page.screenshot(path=SCREENSHOTS / screenshot, full_page=True)
    page.get_by_role("button", name="Save").click()
    page.get_by_role("dialog").wait_for(state="hidden")


def press_test(page: Any, url: str, conn_id: str, screenshot: str) -> str:
    """Press Test in the connection's row of a freshly loaded list (no earlier toast): the toast's text."""
    page.goto(f"{url}/connections")
    row = page.get_by_role("row").filter(has=page.get_by_text(conn_id, exact=True))
    row.get_by_role("button", name="Test Connection").click()
    toast = page.get_by_role("status").filter(has_text="Test Connection")
    toast.wait_for()
    page.wait_for_timeout(500)  # the toast fades in: let the screenshot show it
    page.screenshot(path=SCREENSHOTS / screenshot, full_page=True)
    text: str = toast.inner_text()
    return text


def test_connections_made_in_the_form_pass_the_lists_test_button(
    page: Any, airflow_ui: AirflowDeployment, creatio: EmulatorServer
) -> None:
    url = airflow_ui.api_url
    settings = creatio.settings

    open_creatio_form(page, url, "creatio_forms", creatio.url)
    page.get_by_label("User name (forms)").fill(settings.username)
    fill_secret(page.get_by_label("Password (forms)"), settings.password)
    assert page.get_by_label("Password (forms)").get_attribute("type") == "password"
    show_extras(page)
    for field in FIELDS:  # every extra is in the form, under its label
        assert page.get_by_text(field.label, exact=True).is_visible(), field.name
    fill_extra(page, "timeout", "30")
    fill_extra(page, "retry_attempts", "2")
    save(page, "1-forms-form.png")

    open_creatio_form(page, url, "creatio_oauth", creatio.url)
    show_extras(page)
    page.locator("#element_auth_type").click()
    page.get_by_role("option", name="oauth").click()
    fill_extra(page, "client_id", settings.oauth_client_id)
    fill_secret(page.locator("#element_client_secret"), settings.oauth_client_secret)
    assert page.locator("#element_client_secret").get_attribute("type") == "password"
    identity = page.locator("#element_identity_server_url")
    assert identity.get_attribute("placeholder") == "Start typing to see options"
    suggestions = page.locator("#list_identity_server_url option")
    assert suggestions.evaluate_all("os => os.map(o => o.value)") == ["https://mysite-is.creatio.com"]
    identity.fill(creatio.identity_url)
    save(page, "2-oauth-form.png")

    shown = settings.oauth_client_secret in page.content()
    assert not shown, "the connections list shows the client secret"
    forms_extra = json.loads(airflow_ui.api("GET", "/api/v2/connections/creatio_forms")["extra"])
    assert {"auth_type": "forms", "timeout": 30, "retry_attempts": 2}.items() <= forms_extra.items()
    stored = airflow_ui.api("GET", "/api/v2/connections/creatio_oauth")
    assert stored["port"] is None  # what makes the list send port 0
    masked = json.loads(stored["extra"])["client_secret"] == "***"
    assert masked, "the API does not mask the password-format extra"  # (without quoting it)
    forms = press_test(page, url, "creatio_forms", "3-forms-test.png")
    assert forms.startswith("Test Connection Successful"), forms
    assert f"Connected to {creatio.url}: login and an OData read succeeded." in forms
    oauth = press_test(page, url, "creatio_oauth", "4-oauth-test.png")
    assert oauth.startswith("Test Connection Successful"), oauth
    assert "an OAuth token and an OData read succeeded." in oauth


def test_only_the_uis_port_0_is_taken_for_the_stored_port(
    airflow_ui: AirflowDeployment, creatio: EmulatorServer
) -> None:
    """Through the REST endpoint itself: port 0 tests the stored Creatio connection; a port that differs from the
    stored one is still refused (Airflow's check stays in force), and so is port 0 for any other type (what a
    Creatio connection met before the plugin)."""
    stored = {"connection_id": "creatio_rest", "conn_type": "creatio", "host": creatio.url}
    login = {"login": creatio.settings.username}
    airflow_ui.api("POST", "/api/v2/connections", {**stored, **login, "password": creatio.settings.password})
    ui_body = {**stored, **login, "password": "***", "extra": "{}"}  # as the connections list sends it
    refused = airflow_ui.api("POST", "/api/v2/connections/test", {**ui_body, "port": 1}, expect=400)
    assert "differs from the stored connection" in refused["detail"]
    passed = airflow_ui.api("POST", "/api/v2/connections/test", {**ui_body, "port": 0})
    assert passed["status"] is True, passed["message"]
    other = {"connection_id": "generic_rest", "conn_type": "generic", "host": creatio.url}
    airflow_ui.api("POST", "/api/v2/connections", other)
    refused = airflow_ui.api("POST", "/api/v2/connections/test", {**other, "port": 0}, expect=400)
    assert "differs from the stored connection" in refused["detail"]
