"""The README stays a five-minute read whose links lead somewhere; the long reference lives in docs/.

``make docs`` checks the links of the documentation site in strict mode; the README is not part of the site, so
its relative links are checked here.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
README_LIMIT = 12_000  # bytes
RELATIVE_LINK = re.compile(r"\]\((?!https?://)([^)#\s]+)(?:#[^)]*)?\)")


def test_the_readme_is_short() -> None:
    size = len(README.read_bytes())
    assert size < README_LIMIT, (
        f"README.md is {size} bytes (limit {README_LIMIT}): move reference material to a page of docs/"
    )


def test_every_relative_link_of_the_readme_leads_to_a_file() -> None:
    targets = RELATIVE_LINK.findall(README.read_text(encoding="utf-8"))
    assert targets, "the README links to the documentation"
    missing = [target for target in targets if not (REPO / target).exists()]
    assert missing == []
