"""The limits Creatio puts on every new file, whichever way it comes (UploadFile, an OData ``PUT .../Data``):
``MaxFileSize`` ("Attachment max size") and the secure file upload lists ``FileExtensionsDenyList`` /
``FileExtensionsAllowList`` [academy "OData basics"; "Secure file upload"]. Each refusal names its system setting,
so that whoever reads it knows what an administrator would change (docs/creatio-notes/file-limits.md).
"""

from __future__ import annotations

from airflow_provider_creatio.testing.emulator.settings import EmulatorSettings

MEGABYTE = 1024 * 1024


class LimitError(Exception):
    """A file a limit refuses. ``code`` is the ``errorInfo.errorCode`` UploadFile answers with."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def extension(name: str) -> str:
    """The extension of a file name, lower case, without the dot; empty when the name has none."""
    _, dot, suffix = name.rpartition(".")
    return suffix.lower() if dot and suffix and "/" not in suffix else ""


def _listed(extensions: list[str]) -> set[str]:
    return {item.removeprefix(".").lower() for item in extensions}


def check_name(settings: EmulatorSettings, name: str) -> None:
    """Refuse a name whose extension is on the deny list, or off the allow list when there is one."""
    found = extension(name)
    why = "Uploading it is not allowed for security reasons."
    if found and found in _listed(settings.file_extensions_deny):
        raise LimitError(
            "SecurityException",
            f"The file '{name}' cannot be uploaded: its extension '.{found}' is on the FileExtensionsDenyList "
            f"system setting. {why}",
        )
    allowed = settings.file_extensions_allow
    if allowed is None or found in _listed(allowed):
        return
    what = f"its extension '.{found}' is not" if found else "a name without an extension is not"
    raise LimitError(
        "SecurityException",
        f"The file '{name}' cannot be uploaded: {what} on the FileExtensionsAllowList system setting. {why}",
    )


def check_size(settings: EmulatorSettings, name: str, size: int) -> None:
    """Refuse a file of more than ``MaxFileSize`` bytes."""
    limit = settings.max_file_size
    if limit is None or size <= limit:
        return
    raise LimitError("ArgumentOutOfRangeException", size_message(name, size, limit))


def size_message(name: str, size: int | None, limit: int) -> str:
    """The words of a MaxFileSize refusal; ``size`` None when only "more than the limit" is known."""
    what = "more" if size is None else f"{size} bytes, more"
    return (
        f"The file '{name}' is {what} than the MaxFileSize system setting allows "
        f"({limit} bytes, {limit / MEGABYTE:g} MB)."
    )
