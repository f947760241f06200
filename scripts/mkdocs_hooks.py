"""MkDocs hooks (``hooks:`` in mkdocs.yml) for ``make docs``.

A reference page carries its API reference twice: as markdown generated from the docstrings, for a reader of
the repository (``scripts/generate_docs.py``), and as mkdocstrings blocks in a comment. The built site renders
the blocks: this hook puts them in the place of the generated section.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # MkDocs loads this file alone, not its folder

from generate_docs import section_pattern
from reference_pages import MKDOCSTRINGS, documented_modules


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    if MKDOCSTRINGS.search(markdown) is None:
        return markdown
    blocks = "\n\n".join(f"::: {module}" for module in documented_modules(markdown))
    markdown = MKDOCSTRINGS.sub("", markdown)
    return section_pattern("reference").sub(lambda _match: blocks + "\n", markdown)
