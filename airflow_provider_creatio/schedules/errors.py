""":class:`ScheduleFileError`, the one error of a schedule file, naming the file, the entry and the field."""

from __future__ import annotations

from airflow_provider_creatio.client.errors import CreatioValidationError


class ScheduleFileError(CreatioValidationError):
    """A schedule file that cannot be turned into DAGs that do exactly what it says.

    ``file_path``, ``index`` (1-based), ``entry_name`` and ``field`` say where (``path`` is taken: on every
    :class:`CreatioError` it is the HTTP path, here ``None``); ``index``, ``entry_name`` and ``field``
    are ``None`` when the problem is not tied to one entry or field.
    """

    def __init__(
        self,
        path: str,
        reason: str,
        *,
        index: int | None = None,
        entry_name: str | None = None,
        field: str | None = None,
    ) -> None:
        self.file_path = path
        self.index = index
        self.entry_name = entry_name
        self.field = field
        where = [f"schedule file {path!r}"]
        if index is not None:
            where.append(f"entry {index}" + (f" ({entry_name!r})" if entry_name else ""))
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{', '.join(where)}: {reason}")
