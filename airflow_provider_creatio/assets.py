"""Creatio entities as Airflow assets: ``creatio://{host}[/{base path}]/{Entity}``.

One URI names one entity of one site: the host of the connection (lower case, without the default port 443 or
80, any other port kept), the virtual directory an on-site installation lives in (``https://server/creatio`` gives
``creatio://server/creatio/Contact``; the last path segment is always the entity) and the entity's name as
Creatio spells it. Airflow calls :func:`sanitize_uri` on every ``creatio://`` asset (registered under
``asset-uris`` in the provider info), so ``Asset("creatio://MySite.Creatio.com:443/Contact")`` and the asset an
operator emits for that site name the same thing.

Importing this module is cheap: it is imported when Airflow normalizes an asset URI, at every DAG parse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from airflow_provider_creatio.client.errors import CreatioValidationError
from airflow_provider_creatio.client.validation import check_entity_name

if TYPE_CHECKING:
    from airflow_provider_creatio._compat import Asset

SCHEME = "creatio"
_DEFAULT_PORTS = (443, 80)  # https and http: the site's address without them is the same site


def entity_uri(site_url: str, entity: str) -> str:
    """The asset URI of ``entity`` on the site at ``site_url`` (a connection host such as
    ``https://mysite.creatio.com`` or ``https://server/creatio``; the ``/0`` of a .NET Framework URL is dropped,
    as the client drops it)."""
    parts = urlsplit(site_url.strip())
    if not parts.netloc:
        raise CreatioValidationError(
            f"the Creatio site URL must name a host (https://mysite.creatio.com), got {site_url!r}"
        )
    base = parts.path.rstrip("/")
    base = base[:-2] if base.endswith("/0") else base
    return f"{SCHEME}://{_netloc(parts)}{base.rstrip('/')}/{check_entity_name(entity)}"


def site_namespace(uri: str) -> tuple[str, str]:
    """The OpenLineage namespace (``creatio://{host}[/{base path}]``) and name (the entity) of an asset URI."""
    parts = sanitize_uri(urlsplit(uri))
    base, _, entity = parts.path.rpartition("/")
    return f"{SCHEME}://{parts.netloc}{base}", entity


def sanitize_uri(parts: SplitResult) -> SplitResult:
    """Airflow's normalizer for ``creatio://`` URIs: lower-case host, no default port, a valid entity name last.

    A URI that names no host, no entity, an invalid entity name, an empty path segment, a user, a query or a
    fragment raises ``ValueError`` (``CreatioValidationError``), which Airflow reports as an invalid asset.
    """
    shown = parts.geturl()
    if not parts.netloc or not parts.hostname:
        raise CreatioValidationError(f"a creatio:// asset URI must name the site's host: {shown!r}")
    if parts.username is not None or "@" in parts.netloc:
        raise CreatioValidationError(f"a creatio:// asset URI must not carry a user name: {shown!r}")
    if parts.query or parts.fragment:
        raise CreatioValidationError(
            f"a creatio:// asset URI names an entity, without a query or fragment: {shown!r}"
        )
    segments = parts.path.rstrip("/").split("/")[1:]
    if not segments or any(not segment for segment in segments):
        raise CreatioValidationError(
            f"a creatio:// asset URI ends with the entity (creatio://host/Contact): {shown!r}"
        )
    try:
        check_entity_name(segments[-1], "the entity of a creatio:// asset URI")
    except CreatioValidationError as err:
        raise CreatioValidationError(f"{err} ({shown!r})") from None
    return parts._replace(scheme=SCHEME, netloc=_netloc(parts), path="/" + "/".join(segments))


def create_asset(*, host: str, entity: str, extra: dict[str, Any] | None = None) -> Asset:
    """The asset of ``entity`` on the site ``host`` (a URL, or a bare host name taken as https)."""
    from airflow_provider_creatio._compat import Asset

    site = host if "://" in host else f"https://{host}"
    return Asset(uri=entity_uri(site, entity), extra=extra)


def convert_asset_to_openlineage(asset: Asset, lineage_context: Any) -> Any:
    """The OpenLineage dataset of a ``creatio://`` asset: namespace ``creatio://{host}[/{base}]``, name the
    entity. Called by the OpenLineage provider only, which is then installed."""
    from airflow.providers.common.compat.openlineage.facet import Dataset

    namespace, name = site_namespace(asset.uri)
    return Dataset(namespace=namespace, name=name)


def _netloc(parts: SplitResult) -> str:
    try:
        port = parts.port
    except ValueError as err:
        raise CreatioValidationError(f"a bad port in {parts.geturl()!r}: {err}") from None
    host = (parts.hostname or "").lower()
    host = f"[{host}]" if ":" in host else host  # IPv6
    return host if port is None or port in _DEFAULT_PORTS else f"{host}:{port}"


def storage_uri(path: object) -> str:
    """An object storage location as an asset URI: without the connection id (``s3://conn@bucket``) and without
    a trailing slash; a local path becomes ``file://``."""
    text = str(path).strip().rstrip("/")
    parts = urlsplit(text)
    if not parts.scheme:
        return f"file://{text}"
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
