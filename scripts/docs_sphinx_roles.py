"""A griffe extension for ``make docs``: Sphinx roles in docstrings (``:class:`CreatioHook```) become code.

The docstrings name other objects the Sphinx way, which Airflow's own documentation and IDEs read; mkdocstrings
would show the role's name as text. Listed under the python handler's ``extensions`` in mkdocs.yml.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:attr|class|data|exc|func|meth|mod|obj):`~?([^`]+)`")


class SphinxRolesAsCode(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(r"`\1`", obj.docstring.value)
