"""``python -m airflow_provider_creatio.testing.emulator``: prints its URLs, serves, stops on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys

import requests

from airflow_provider_creatio.testing.deployment import free_port


def test_the_command_line_serves_until_sigterm() -> None:
    port, identity_port = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_creatio.testing.emulator",
            "--port",
            str(port),
            "--identity-port",
            str(identity_port),
            "--net-core",
            "--username",
            "Robot",
            "--password",
            "pw",
            "--expiry-form",
            "302",
            "--client-id",
            "robot-client",
            "--client-secret",
            "robot-secret",
            "--token-lifetime",
            "90",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url, identity = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{identity_port}"
        assert line.strip() == f"Creatio emulator serving at {url} (identity server at {identity})"

        settings = requests.get(f"{url}/__emulator__/settings", timeout=5).json()
        login = requests.post(
            f"{url}/ServiceModel/AuthService.svc/Login",
            json={"UserName": "Robot", "UserPassword": "pw"},
            timeout=5,
        )
        gone = requests.get(f"{url}/odata/Contact", allow_redirects=False, timeout=5)
        token = requests.post(
            f"{identity}/connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "robot-client",
                "client_secret": "robot-secret",
            },
            timeout=5,
        )

        assert settings["net_core"] is True
        assert login.json()["Code"] == 0
        assert gone.status_code == 302
        assert gone.headers["Location"].startswith("/Login/Login.html")
        assert token.json()["expires_in"] == 90
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
