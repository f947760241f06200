"""The OData 4 multipart/mixed ``$batch`` format: reading a request body, writing an answer.

Read leniently, as Creatio's own documented example needs: its lines end in LF only, ``Content-ID`` stands among
the inner request's headers (not the MIME part's), and its "different changesets" example closes neither the
changesets nor the batch. A new batch boundary ends an open changeset; the end of the body ends everything.
Each request becomes the same item a JSON batch holds (``method``, ``url``, ``id``, ``headers``, ``body``, and the
changeset's boundary as ``atomicityGroup``), so both forms run through the same code.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

_BOUNDARY_PARAM = re.compile(r'boundary\s*=\s*"?([^";]+)"?', re.IGNORECASE)
_REQUEST_LINE = re.compile(r"(?P<method>[A-Za-z]+)\s+(?P<url>\S+)(?:\s+HTTP/\d(?:\.\d)?)?")


class MultipartError(ValueError):
    """A multipart body that cannot be read; the message goes on the wire."""


@dataclass(frozen=True)
class Answer:
    """One sub-response: its request's id and atomicity group, status, headers (as sent), body text."""

    id: str
    group: str | None
    status: int
    headers: dict[str, str]
    body: str | None


def boundary(content_type: str, body: str) -> str:
    """The batch boundary from the Content-Type header, else from the body's first delimiter line."""
    match = _BOUNDARY_PARAM.search(content_type)
    if match:
        return match.group(1).strip()
    first = next((line for line in body.splitlines() if line.strip()), "")
    if not first.startswith("--"):
        raise MultipartError("The multipart batch request names no boundary.")
    return first[2:].strip()


def parse_batch(body: str, batch_boundary: str) -> list[dict[str, Any]]:
    """The requests of a multipart batch, in order, as JSON batch items."""
    items: list[dict[str, Any]] = []
    for part in _parts(body.splitlines(), batch_boundary):
        headers, content = _split_headers(part)
        changeset = _BOUNDARY_PARAM.search(headers.get("content-type", ""))
        if changeset and headers.get("content-type", "").lower().startswith("multipart/mixed"):
            group = changeset.group(1).strip()
            for inner in _parts(content, group):
                items.append(_request(inner, len(items), group))
        else:
            items.append(_request(part, len(items), None))
    return items


def _parts(lines: Sequence[str], part_boundary: str) -> list[list[str]]:
    """The parts between ``--boundary`` lines; ``--boundary--`` (or the end) closes the last one."""
    parts: list[list[str]] = []
    current: list[str] | None = None
    for line in lines:
        marker = line.strip()
        if marker == f"--{part_boundary}--":
            break
        if marker == f"--{part_boundary}":
            current = []
            parts.append(current)
        elif current is not None:
            current.append(line)
    return parts


def _split_headers(lines: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """Header lines up to the first blank one (names in lower case), and the lines after it."""
    headers: dict[str, str] = {}
    for index, line in enumerate(lines):
        if not line.strip():
            return headers, list(lines[index + 1 :])
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers, []


def _request(part: list[str], index: int, group: str | None) -> dict[str, Any]:
    mime_headers, http = _split_headers(part)
    while http and not http[0].strip():
        http = http[1:]
    if not http:
        raise MultipartError(f"Batch part {index + 1} holds no request.")
    match = _REQUEST_LINE.fullmatch(http[0].strip())
    if match is None:
        raise MultipartError(f"Batch part {index + 1} does not start with a request line: {http[0].strip()!r}.")
    headers, body_lines = _split_headers(http[1:])
    content_id = headers.pop("content-id", None) or mime_headers.get("content-id") or str(index + 1)
    body = "\n".join(body_lines).strip()
    item: dict[str, Any] = {
        "id": content_id,
        "method": match["method"].upper(),
        "url": match["url"],
        "headers": headers,
        "body": body or None,
    }
    if group is not None:
        item["atomicityGroup"] = group
    return item


def write_answer(answers: Sequence[Answer]) -> tuple[str, str]:
    """The multipart answer (CRLF line ends) and its Content-Type: one changeset per atomicity group, in order."""
    batch_boundary = f"batchresponse_{uuid.uuid4()}"
    lines: list[str] = []
    position = 0
    while position < len(answers):
        group = answers[position].group
        end = position + 1
        while group is not None and end < len(answers) and answers[end].group == group:
            end += 1
        lines.append(f"--{batch_boundary}")
        if group is None:
            lines += _response_part(answers[position])
        else:
            changeset = f"changesetresponse_{uuid.uuid4()}"
            lines += [f"Content-Type: multipart/mixed; boundary={changeset}", ""]
            for answer in answers[position:end]:
                lines += [f"--{changeset}", *_response_part(answer)]
            lines.append(f"--{changeset}--")
        position = end
    lines += [f"--{batch_boundary}--", ""]
    return "\r\n".join(lines), f"multipart/mixed; boundary={batch_boundary}"


def _response_part(answer: Answer) -> list[str]:
    phrase = HTTPStatus(answer.status).phrase if answer.status in HTTPStatus._value2member_map_ else ""
    lines = [
        "Content-Type: application/http",
        "Content-Transfer-Encoding: binary",
        f"Content-ID: {answer.id}",
        "",
        f"HTTP/1.1 {answer.status} {phrase}".rstrip(),
        *(f"{name}: {value}" for name, value in answer.headers.items()),
        "",
    ]
    if answer.body is not None:
        lines.append(answer.body)
    return lines
