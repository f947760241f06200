"""Serve the emulator until SIGINT/SIGTERM::

    python -m airflow_provider_creatio.testing.emulator --port 8765 [--identity-port 8766] [--net-core]
        [--base-path /7.15.1.1295_SalesEnterprise] [--max-file-size 10485760] [--file-extensions-allow pdf,png]

Prints the site's URL and the identity server's URL once both are ready.
"""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from airflow_provider_creatio.testing.emulator.server import EmulatorServer
from airflow_provider_creatio.testing.emulator.settings import (
    DEFAULT_DENIED_EXTENSIONS,
    DEFAULT_MAX_FILE_SIZE,
    EXPIRY_FORMS,
    PATCH_MISSING,
    SESSION_MODES,
    EmulatorSettings,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m airflow_provider_creatio.testing.emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--identity-port",
        type=int,
        default=None,
        help="port of the identity server (OAuth /connect/token); default --port + 1, or any free one for --port 0",
    )
    parser.add_argument(
        "--net-core", action="store_true", help="serve the .NET Core layout (/odata, /ServiceModel)"
    )
    parser.add_argument(
        "--base-path",
        default="",
        help="serve the site under this virtual directory, e.g. /7.15.1.1295_SalesEnterprise (default: the root)",
    )
    parser.add_argument("--username", default="Supervisor")
    parser.add_argument("--password", default="Supervisor")
    parser.add_argument("--session-lifetime", type=float, default=None, help="inactivity timeout in seconds")
    parser.add_argument("--expiry-form", choices=EXPIRY_FORMS, default="401")
    parser.add_argument("--client-id", default="airflow-client", help="the OAuth client registered at start")
    parser.add_argument("--client-secret", default="airflow-secret")
    parser.add_argument("--token-lifetime", type=float, default=3600, help="bearer token lifetime in seconds")
    parser.add_argument(
        "--patch-missing",
        choices=PATCH_MISSING,
        default="create",
        help="a PATCH of an Id no record has: create it with that Id (the WSO2 Creatio connector reference), or answer 404",
    )
    parser.add_argument(
        "--max-filter-nodes", type=_limit, default=100, help="MaxNodeCount of a $filter (0: no limit)"
    )
    parser.add_argument(
        "--max-orderby-clauses",
        type=_limit,
        default=5,
        help="MaxOrderByNodeCount of an $orderby (0: no limit)",
    )
    parser.add_argument(
        "--max-expansion-depth", type=_limit, default=2, help="MaxExpansionDepth of an $expand (0: no limit)"
    )
    _add_server_model(parser)
    _add_files(parser)
    return parser.parse_args(argv)


def _add_server_model(parser: argparse.ArgumentParser) -> None:
    """The server model's options (docs/guides/emulator.md, "The server model"); all off by default."""
    group = parser.add_argument_group("server model")
    group.add_argument("--server-request-work", type=float, default=0.0, help="seconds of work per request")
    group.add_argument(
        "--server-read-work-per-record",
        type=float,
        default=0.0,
        help="seconds of work per row a read returns",
    )
    group.add_argument(
        "--server-write-work-per-record", type=float, default=0.0, help="seconds of work per record written"
    )
    group.add_argument(
        "--server-workers", type=int, default=8, help="workers that do the work (used when any work is set)"
    )
    group.add_argument(
        "--session-mode",
        choices=SESSION_MODES,
        default="nonblocking",
        help="blocking: the requests of one session are served one at a time",
    )
    group.add_argument(
        "--max-read-memory-mb",
        type=float,
        default=None,
        help="MaxMemoryUsageToGetDataViaEntityCollection: a larger collection read answers 500 (default: none)",
    )
    group.add_argument(
        "--api-call-hard-cap",
        type=int,
        default=None,
        help="refuse a user's calls with 429 past this many in a UTC day (default: never; Creatio's caps are soft)",
    )


def _add_files(parser: argparse.ArgumentParser) -> None:
    """The upload limits (docs/guides/emulator.md, "Files"): Creatio's MaxFileSize and secure file upload lists."""
    group = parser.add_argument_group("files")
    group.add_argument(
        "--max-file-size",
        type=_limit,
        default=DEFAULT_MAX_FILE_SIZE,
        help="MaxFileSize in bytes: a larger file is refused (default: 10 MB, as Creatio's; 0: no limit)",
    )
    group.add_argument(
        "--file-extensions-deny",
        type=_extensions,
        default=list(DEFAULT_DENIED_EXTENSIONS),
        help=f"FileExtensionsDenyList, comma-separated (default: {','.join(DEFAULT_DENIED_EXTENSIONS)}; '': none)",
    )
    group.add_argument(
        "--file-extensions-allow",
        type=_extensions,
        default=None,
        help="FileExtensionsAllowList, comma-separated: only these extensions are accepted (default: any)",
    )


def _extensions(text: str) -> list[str]:
    """Extensions from the command line: ``exe,.dll, bat`` (an empty string: none)."""
    return [item.strip() for item in text.split(",") if item.strip()]


def _limit(text: str) -> int | None:
    """A validation limit from the command line: a positive integer, or 0 for none."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("a limit must be 0 (none) or more")
    return value or None


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    settings = EmulatorSettings(
        username=args.username,
        password=args.password,
        net_core=args.net_core,
        base_path=f"/{args.base_path.strip('/')}" if args.base_path.strip("/") else "",
        session_lifetime=args.session_lifetime,
        expiry_form=args.expiry_form,
        oauth_client_id=args.client_id,
        oauth_client_secret=args.client_secret,
        token_lifetime=args.token_lifetime,
        max_filter_nodes=args.max_filter_nodes,
        max_orderby_clauses=args.max_orderby_clauses,
        max_expansion_depth=args.max_expansion_depth,
        patch_missing=args.patch_missing,
        server_request_work=args.server_request_work,
        server_read_work_per_record=args.server_read_work_per_record,
        server_write_work_per_record=args.server_write_work_per_record,
        server_workers=args.server_workers,
        session_mode=args.session_mode,
        max_read_memory_mb=args.max_read_memory_mb,
        api_call_hard_cap=args.api_call_hard_cap,
        max_file_size=args.max_file_size,
        file_extensions_deny=args.file_extensions_deny,
        file_extensions_allow=args.file_extensions_allow,
    )
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    identity_port = args.identity_port
    if identity_port is None:
        identity_port = args.port + 1 if args.port else 0
    with EmulatorServer(settings, port=args.port, host=args.host, identity_port=identity_port) as server:
        print(
            f"Creatio emulator serving at {server.url} (identity server at {server.identity_url})", flush=True
        )
        stop.wait()


if __name__ == "__main__":
    main()
