"""``python -m airflow_provider_creatio.testing.emulator``: prints its URL, serves, stops on SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys

import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_command_line_serves_until_sigterm() -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_creatio.testing.emulator",
            "--port",
            str(port),
            "--net-core",
            "--username",
            "Robot",
            "--password",
            "pw",
            "--expiry-form",
            "302",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        assert line.strip() == f"Creatio emulator serving at {url}"

        settings = requests.get(f"{url}/__emulator__/settings", timeout=5).json()
        login = requests.post(
            f"{url}/ServiceModel/AuthService.svc/Login",
            json={"UserName": "Robot", "UserPassword": "pw"},
            timeout=5,
        )
        gone = requests.get(f"{url}/odata/Contact", allow_redirects=False, timeout=5)

        assert settings["net_core"] is True
        assert login.json()["Code"] == 0
        assert gone.status_code == 302
        assert gone.headers["Location"].startswith("/Login/Login.html")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
