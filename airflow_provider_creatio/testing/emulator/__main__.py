"""Serve the emulator until SIGINT/SIGTERM::

    python -m airflow_provider_creatio.testing.emulator --port 8765 [--net-core] [--expiry-form 302]

Prints one line with its URL once it is ready.
"""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from airflow_provider_creatio.testing.emulator.server import EmulatorServer
from airflow_provider_creatio.testing.emulator.settings import EXPIRY_FORMS, EmulatorSettings


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m airflow_provider_creatio.testing.emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--net-core", action="store_true", help="serve the .NET Core layout (/odata, /ServiceModel)"
    )
    parser.add_argument("--username", default="Supervisor")
    parser.add_argument("--password", default="Supervisor")
    parser.add_argument("--session-lifetime", type=float, default=None, help="inactivity timeout in seconds")
    parser.add_argument("--expiry-form", choices=EXPIRY_FORMS, default="401")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    settings = EmulatorSettings(
        username=args.username,
        password=args.password,
        net_core=args.net_core,
        session_lifetime=args.session_lifetime,
        expiry_form=args.expiry_form,
    )
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    with EmulatorServer(settings, port=args.port, host=args.host) as server:
        print(f"Creatio emulator serving at {server.url}", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
