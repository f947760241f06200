"""The one exception hierarchy of the provider.

Every error names the operation it belongs to and, when the server answered, the HTTP status, the method, the
path (never the query string, which may carry process parameters) and Creatio's own message. No error text ever
contains a password, a cookie, the BPMCSRF token, a client secret or a bearer token.
"""

from __future__ import annotations


class CreatioError(Exception):
    """Base class of every error raised by this provider."""

    speaker = "Creatio"  # who said server_message, in the rendered text

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
        server_message: str | None = None,
        operation: str | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.method = method
        self.path = path
        self.server_message = server_message
        self.operation = operation
        self.hint: str | None = None
        super().__init__(self._render())

    def add_hint(self, hint: str) -> None:
        """Say at the end of the message what the user most likely got wrong (learned after the error, by a
        schema read or a probe)."""
        self.hint = hint
        self.args = (self._render(),)

    def _render(self) -> str:
        parts = [f"{self.operation}: {self.message}" if self.operation else self.message]
        if self.status is not None or self.method:
            where = " ".join(str(p) for p in (self.method, self.path) if p)
            parts.append(
                f"[HTTP {self.status if self.status is not None else '-'} {where}]".replace(" ]", "]")
            )
        if self.server_message and self.server_message not in self.message:
            parts.append(f"{self.speaker} says: {self.server_message}")
        if self.hint:
            parts.append(self.hint)
        return " ".join(parts)


class CreatioConfigError(CreatioError, ValueError):
    """The connection or client configuration is unusable (empty host, no scheme, insecure TLS without opt-in...)."""


class CreatioValidationError(CreatioError, ValueError):
    """An argument was rejected before anything was sent (bad GUID, bad entity name, unserializable value...)."""


class CreatioFileError(CreatioValidationError):
    """A record file cannot be written or read as asked: an unknown format, a malformed line or row, a record
    whose columns do not fit the file."""


class CreatioAuthError(CreatioError):
    """Login failed (Creatio answered Code 1, or the token endpoint refused), or the session was still rejected
    after one re-login."""


class CreatioTokenError(CreatioAuthError):
    """The identity server refused the token request. ``error`` is its RFC 6749 code (``invalid_client``,
    ``unauthorized_client``, ``invalid_scope``...), ``error_description`` its explanation, when it gave them;
    ``server_message`` holds both."""

    speaker = "Identity server"

    def __init__(
        self,
        message: str,
        *,
        error: str | None = None,
        error_description: str | None = None,
        **kwargs: object,
    ) -> None:
        self.error = error
        self.error_description = error_description
        said = " - ".join(part for part in (error, error_description) if part)
        super().__init__(message, server_message=said or None, **kwargs)  # type: ignore[arg-type]


class CreatioBadRequestError(CreatioError):
    """HTTP 400: Creatio refused the request (unknown column, bad filter, wrong value type...)."""


class CreatioNotFoundError(CreatioError):
    """HTTP 404: the record, entity or service does not exist."""


def _did_you_mean(suggestions: list[str]) -> str:
    return f"; {did_you_mean(suggestions)}" if suggestions else ""


def did_you_mean(suggestions: list[str]) -> str:
    """``did you mean 'Email'?``, ``did you mean 'Email', 'Phone' or 'Name'?``"""
    quoted = [f"'{name}'" for name in suggestions]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + f" or {quoted[-1]}"
    return f"did you mean {listed}?"


class CreatioUnknownEntityError(CreatioNotFoundError):
    """The site's ``$metadata`` has no such entity. ``suggestions`` are its closest entity names."""

    def __init__(self, entity: str, suggestions: list[str], **kwargs: object) -> None:
        self.entity = entity
        self.suggestions = suggestions
        message = f"Creatio has no entity '{entity}'{_did_you_mean(suggestions)}"
        super().__init__(message, **kwargs)  # type: ignore[arg-type]


class CreatioUnknownColumnError(CreatioValidationError):
    """A column (or lookup) that the entity does not have, found before anything was sent: ``Contact has no column
    'Emial'; did you mean 'Email'?``. ``suggestions`` are the entity's closest names; ``argument`` is where the
    name was given (``data``, ``select``, ``filter``...)."""

    def __init__(
        self, entity: str, column: str, suggestions: list[str], *, argument: str, what: str = "column"
    ) -> None:
        self.entity = entity
        self.column = column
        self.suggestions = suggestions
        self.argument = argument
        message = f"{entity} has no {what} '{column}'{_did_you_mean(suggestions)}"
        super().__init__(message, operation=f"check {argument}")


class CreatioConflictError(CreatioError):
    """HTTP 409 (or a duplicate key reported by Creatio): the record already exists or was changed meanwhile."""


class CreatioRateLimitError(CreatioError):
    """HTTP 429 still returned after the configured retry attempts."""


class CreatioServerError(CreatioError):
    """HTTP 5xx: Creatio failed (still failing after retries, where the call was safe to retry)."""


class CreatioMemoryLimitError(CreatioServerError):
    """HTTP 500 "Request processing terminated because it reached the RAM consumption limit of N MB": a read's
    data took more memory than Creatio's ``MaxMemoryUsageToGetDataViaEntityCollection`` allows. Paged reads
    answer it with a smaller page (:mod:`~airflow_provider_creatio.client.page_fit`); it reaches the caller only
    when even the smallest page is refused, or from a single read."""


class CreatioTransportError(CreatioError):
    """The request could not be delivered (connection refused, DNS, TLS, connect timeout) after retries."""


class CreatioOutcomeUnknownError(CreatioTransportError):
    """A request that is not safe to repeat was sent, but its answer was lost (read timeout, connection dropped).

    The server may or may not have carried it out, so it was deliberately not retried. Check Creatio before
    running the task again (for a process: SysProcessLog)."""


class CreatioResponseError(CreatioError):
    """Creatio answered with a body that cannot be understood (truncated JSON, wrong content type, bad XML)."""


class CreatioProcessError(CreatioError):
    """A business process failed, was cancelled, or could not be started or driven."""

    def __init__(
        self,
        message: str,
        *,
        process_id: str | None = None,
        process_status: str | None = None,
        error_description: str | None = None,
        **kwargs: object,
    ) -> None:
        self.process_id = process_id
        self.process_status = process_status
        self.error_description = error_description
        super().__init__(message, **kwargs)  # type: ignore[arg-type]

    def _render(self) -> str:
        text = super()._render()
        if self.process_id:
            text += f" (process {self.process_id}"
            text += f", status {self.process_status})" if self.process_status else ")"
        if self.error_description and self.error_description not in text:
            text += f" Error description: {self.error_description}"
        return text
