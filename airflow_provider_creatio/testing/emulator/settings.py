"""The emulator's settings: one mutable object, read on every request, so changing a field changes behaviour at once.

Fields that shape the data (``seed``, ``custom_entities``) take effect at the next reset.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from airflow_provider_creatio.testing.emulator.odata_limits import QueryLimits
from airflow_provider_creatio.testing.emulator.values import GUID_ORDERS, KINDS

ExpiryForm = Literal["401", "302", "html"]
EXPIRY_FORMS: tuple[str, ...] = ("401", "302", "html")
PatchMissing = Literal["create", "404"]
PATCH_MISSING: tuple[str, ...] = ("create", "404")
SessionMode = Literal["nonblocking", "blocking"]
SESSION_MODES: tuple[str, ...] = ("nonblocking", "blocking")
# Creatio's "Attachment max size" (MaxFileSize) default, 10 MB, in bytes.
DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
# The emulator's deny list: programs and scripts a browser or a server could run (no source gives Creatio's
# default list; docs/creatio-notes/file-limits.md).
DEFAULT_DENIED_EXTENSIONS: tuple[str, ...] = (
    "asp",
    "aspx",
    "bat",
    "cmd",
    "com",
    "cshtml",
    "dll",
    "exe",
    "jar",
    "js",
    "msi",
    "php",
    "ps1",
    "scr",
    "sh",
    "vbs",
)


class SettingsError(ValueError):
    """A settings value of the wrong type, or a field that does not exist."""


@dataclass
class EmulatorSettings:
    """How the emulated Creatio site behaves.

    ``session_lifetime`` is an inactivity timeout in seconds (Creatio's ``UserSessionTimeout``), None for never.
    ``expiry_form`` is how a missing or expired session is answered: ``"401"`` (JSON), ``"302"`` (redirect to the
    login page) or ``"html"`` (200 with the login page). ``max_page_size`` caps every OData list, whatever ``$top``
    says. ``custom_entities`` maps an entity name (``Usr...``) to ``{column: kind}``, kinds as in
    ``store.Column`` with lookups written ``"lookup:<Entity>"``. ``base_path`` serves the whole site under a
    virtual directory (``/7.15.1.1295_SalesEnterprise``, as in Creatio's ProcessEngineService documentation); empty: at the root. ``database``
    (``"mssql"`` or ``"postgresql"``) is how ``$orderby=Id`` and ``Id gt <guid>`` order GUIDs: SQL Server's
    uniqueidentifier order (last six bytes first) or PostgreSQL's byte order (the text's order).
    ``guid_ordering`` false refuses ``gt``/``ge``/``lt``/``le`` on GUIDs with a 400, as an OData layer without an
    ordering for ``Edm.Guid`` would (no source says which Creatio does; see
    ``docs/creatio-notes/keyset-paging-and-guid-order.md``). Both take effect at the next reset.
    ``max_filter_nodes``, ``max_orderby_clauses`` and ``max_expansion_depth`` are Microsoft's OData validation
    limits (``MaxNodeCount``, ``MaxOrderByNodeCount``, ``MaxExpansionDepth``) with their defaults; a query over
    one is refused with the validator's message, and None switches that check off
    (``docs/creatio-notes/odata-query-limits.md``). ``patch_missing`` is what a PATCH of an Id no record has
    does: ``"create"`` creates the record with that Id, as the WSO2 Creatio connector reference documents an update doing (the default), and
    ``"404"`` answers 404 as OData's protocol does for a missing entity
    (``docs/creatio-notes/where-the-sources-are-silent.md``).

    The server model (``server_model.py``; all off by default): ``server_request_work`` seconds per request,
    ``server_read_work_per_record`` per row a read returns and ``server_write_work_per_record`` per record written
    (each write of a ``$batch`` counts), done by a pool of ``server_workers`` workers that is used while any work
    setting is above 0. ``session_mode`` ``"blocking"`` serves the requests of one session (cookie session or
    bearer token) one at a time, as ASP.NET session state does; ``"nonblocking"`` side by side.
    ``max_read_memory_mb`` is Creatio's ``MaxMemoryUsageToGetDataViaEntityCollection``: a collection GET whose rows
    would take more (``ram_limit.read_memory_mb``) answers 500; None: no limit. ``api_call_hard_cap`` refuses a
    user's calls with 429 once that many were counted this UTC day (Creatio's caps are soft: the emulator's choice,
    for tests); None: never (``docs/creatio-notes/api-call-quota.md``).

    Files (``docs/creatio-notes/file-limits.md``): ``max_file_size`` is Creatio's ``MaxFileSize`` ("Attachment
    max size", 10 MB by default) in bytes: a larger upload (UploadFile's total, an OData ``PUT .../Data`` body) is
    refused; None: no limit. ``file_extensions_deny`` (Creatio's ``FileExtensionsDenyList``) refuses a file whose
    name ends in one of its extensions (written without the dot, any case); ``file_extensions_allow``
    (``FileExtensionsAllowList``), when not None, refuses every other extension, and a name without one.
    """

    username: str = "Supervisor"
    password: str = field(default="Supervisor", repr=False)
    net_core: bool = False
    base_path: str = ""
    session_lifetime: float | None = None
    session_max_age: float | None = None  # absolute: a session ends this many seconds after its login
    session_max_requests: int | None = None  # a session ends after serving this many requests
    expiry_form: ExpiryForm = "401"
    max_page_size: int = 20000
    oauth_client_id: str = "airflow-client"
    oauth_client_secret: str = field(default="airflow-secret", repr=False)
    token_lifetime: float = 3600
    seed: int = 0
    custom_entities: dict[str, dict[str, str]] = field(default_factory=dict)
    database: Literal["mssql", "postgresql"] = "mssql"
    guid_ordering: bool = True
    max_filter_nodes: int | None = 100
    max_orderby_clauses: int | None = 5
    max_expansion_depth: int | None = 2
    patch_missing: PatchMissing = "create"
    server_request_work: float = 0.0
    server_read_work_per_record: float = 0.0
    server_write_work_per_record: float = 0.0
    server_workers: int = 8
    session_mode: SessionMode = "nonblocking"
    max_read_memory_mb: float | None = None
    api_call_hard_cap: int | None = None
    max_file_size: int | None = DEFAULT_MAX_FILE_SIZE
    file_extensions_deny: list[str] = field(default_factory=lambda: list(DEFAULT_DENIED_EXTENSIONS))
    file_extensions_allow: list[str] | None = None
    # Seeded random faults (faults.ChaosSpec fields); empty: none. Never on by default.
    faults: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            _check(item.name, getattr(self, item.name))

    def patch(self, changes: Mapping[str, Any]) -> None:
        """Apply a JSON-style patch; nothing changes unless every field is valid."""
        for name, value in changes.items():
            _check(name, value)
        for name, value in changes.items():
            setattr(self, name, value)

    def query_limits(self) -> QueryLimits:
        return QueryLimits(self.max_filter_nodes, self.max_orderby_clauses, self.max_expansion_depth)

    def public_view(self) -> dict[str, Any]:
        """The settings without the password and the client secret (for the admin endpoints)."""
        view = dataclasses.asdict(self)
        del view["password"], view["oauth_client_secret"]
        return view


def _is_seconds(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _is_positive_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _is_base_path(value: object) -> bool:
    if not isinstance(value, str):
        return False
    return value == "" or (value.startswith("/") and not value.endswith("/") and not set(value) & set("?# "))


def _is_extension(item: object) -> bool:
    """An extension such as ``"exe"`` or ``".exe"``: a dot may lead, none may be inside, nor a slash or a space."""
    if not isinstance(item, str):
        return False
    word = item.removeprefix(".")
    return bool(word) and word.isprintable() and not set(word) & set("./\\ ")


def _is_extension_list(value: object) -> bool:
    return isinstance(value, list) and all(_is_extension(item) for item in value)


def _is_column_spec(spec: object) -> bool:
    if not isinstance(spec, str):
        return False
    kind, _, target = spec.partition(":")
    return kind in KINDS and (kind == "lookup") == bool(target.strip())


def _is_entity_map(value: object) -> bool:
    return isinstance(value, dict) and all(
        isinstance(name, str)
        and isinstance(columns, dict)
        and all(isinstance(column, str) and _is_column_spec(spec) for column, spec in columns.items())
        for name, columns in value.items()
    )


_CHECKS: dict[str, tuple[Callable[[object], bool], str]] = {
    "username": (lambda v: isinstance(v, str), "a string"),
    "password": (lambda v: isinstance(v, str), "a string"),
    "net_core": (lambda v: isinstance(v, bool), "true or false"),
    "base_path": (_is_base_path, 'empty, or a path such as "/site" (a leading slash, no trailing one)'),
    "session_lifetime": (lambda v: v is None or _is_seconds(v), "null or seconds >= 0"),
    "session_max_age": (lambda v: v is None or _is_seconds(v), "null or seconds >= 0"),
    "session_max_requests": (lambda v: v is None or _is_positive_int(v), "null or an integer > 0"),
    "expiry_form": (lambda v: v in EXPIRY_FORMS, "one of 401, 302, html"),
    "max_page_size": (_is_positive_int, "an integer > 0"),
    "oauth_client_id": (lambda v: isinstance(v, str), "a string"),
    "oauth_client_secret": (lambda v: isinstance(v, str), "a string"),
    "token_lifetime": (_is_seconds, "seconds >= 0"),
    "seed": (_is_int, "an integer"),
    "database": (lambda v: v in GUID_ORDERS, "one of mssql, postgresql"),
    "guid_ordering": (lambda v: isinstance(v, bool), "true or false"),
    "max_filter_nodes": (lambda v: v is None or _is_positive_int(v), "null or an integer > 0"),
    "max_orderby_clauses": (lambda v: v is None or _is_positive_int(v), "null or an integer > 0"),
    "max_expansion_depth": (lambda v: v is None or _is_positive_int(v), "null or an integer > 0"),
    "patch_missing": (lambda v: v in PATCH_MISSING, "one of create, 404"),
    "server_request_work": (_is_seconds, "seconds >= 0"),
    "server_read_work_per_record": (_is_seconds, "seconds >= 0"),
    "server_write_work_per_record": (_is_seconds, "seconds >= 0"),
    "server_workers": (_is_positive_int, "an integer > 0"),
    "session_mode": (lambda v: v in SESSION_MODES, "one of nonblocking, blocking"),
    "max_read_memory_mb": (lambda v: v is None or _is_positive_number(v), "null or megabytes > 0"),
    "api_call_hard_cap": (lambda v: v is None or _is_positive_int(v), "null or an integer > 0"),
    "max_file_size": (lambda v: v is None or _is_positive_int(v), "null or bytes > 0"),
    "file_extensions_deny": (_is_extension_list, 'a list of extensions, such as ["exe", "dll"]'),
    "file_extensions_allow": (
        lambda v: v is None or _is_extension_list(v),
        'null or a list of extensions, such as ["pdf", "png"]',
    ),
    "custom_entities": (
        _is_entity_map,
        'an object {entity: {column: kind}}, kinds as in Column, "lookup:<Entity>"',
    ),
}


def _is_fault_spec(value: object) -> bool:
    from airflow_provider_creatio.testing.emulator.faults import ChaosSpec

    if not isinstance(value, dict):
        return False
    try:
        ChaosSpec.from_dict(value)
    except (TypeError, ValueError):
        return False
    return True


_CHECKS["faults"] = (_is_fault_spec, "an object of faults.ChaosSpec fields (seed, rates, latency, ...)")


def _check(name: str, value: object) -> None:
    if name not in _CHECKS:
        raise SettingsError(f"unknown setting {name!r}")
    accepts, expected = _CHECKS[name]
    if not accepts(value):
        # The value itself is left out: it may be a password.
        raise SettingsError(f"setting {name!r} must be {expected}")
