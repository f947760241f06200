"""The API reference as plain markdown, read from the docstrings, for a reader of the repository.

Each reference page lists the modules it documents in a comment that the built site turns back into mkdocstrings
blocks (``scripts/mkdocs_hooks.py``)::

    <!-- mkdocstrings
    ::: airflow_provider_creatio.operators.process
    -->

For every public class of those modules the page shows its description and a table of its arguments: each
``__init__`` parameter of the class and of its bases in this package, with its default and the ``:param:`` text
of the class that documents it. A hook also lists its public methods with the first paragraph of each docstring (one without a docstring
is refused).
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PACKAGE = "airflow_provider_creatio"
REFERENCE_PAGES = tuple(
    Path("docs/reference") / name for name in ("operators.md", "sensors.md", "triggers.md", "hook.md")
)
MKDOCSTRINGS = re.compile(r"<!-- mkdocstrings\n(?P<blocks>.*?)-->\n", re.DOTALL)
MODULE_BLOCK = re.compile(r"^::: (?P<module>[\w.]+)$", re.MULTILINE)
PARAM = re.compile(r"^:param (?P<name>\w+):(?P<text>.*(?:\n(?![ \t]*\n|:)[ \t]+.*)*)", re.MULTILINE)
ROLE = re.compile(r":(?:attr|class|data|exc|func|meth|mod|obj):`~?([^`]+)`")
AIRFLOW_ARGUMENTS = (
    "Besides these, every argument of Airflow's `BaseOperator` (`task_id`, `retries`, `pool`, `outlets`...)."
)


def documented_modules(page_text: str) -> list[str]:
    """The modules a page documents: the ``:::`` lines of its mkdocstrings comment."""
    found = MKDOCSTRINGS.search(page_text)
    if found is None:
        raise SystemExit("a reference page needs its <!-- mkdocstrings ... --> comment")
    return MODULE_BLOCK.findall(found.group("blocks"))


def reference_section(modules: list[str]) -> str:
    return "\n".join(module_reference(importlib.import_module(name)) for name in modules)


def module_reference(module: Any) -> str:
    return "".join(class_reference(cls) for cls in public_classes(module))


def class_reference(cls: type) -> str:
    blocks = [f"## {cls.__name__}", description(cls)]
    rows = "".join(argument_rows(cls))
    if rows:
        blocks.append("| Argument | Default | Meaning |\n|---|---|---|\n" + rows.rstrip("\n"))
    if rows and _is_operator(cls):
        blocks.append(AIRFLOW_ARGUMENTS)
    methods = "".join(method_rows(cls)) if _is_hook(cls) else ""
    if methods:
        blocks.append("| Method | What it does |\n|---|---|\n" + methods.rstrip("\n"))
    return "\n\n".join(block for block in blocks if block) + "\n\n"


def public_classes(module: Any) -> Iterator[type]:
    for name, value in vars(module).items():
        if inspect.isclass(value) and value.__module__ == module.__name__ and not name.startswith("_"):
            yield value


def description(cls: type) -> str:
    """The class docstring without its ``:param:`` fields, in markdown."""
    text = PARAM.sub("", inspect.cleandoc(cls.__doc__ or ""))
    return _markdown(re.sub(r"\n{3,}", "\n\n", text).strip())


def argument_rows(cls: type) -> Iterator[str]:
    seen: set[str] = set()
    for owner in _own_classes(cls):
        init = owner.__dict__.get("__init__")
        if init is None:
            continue
        for parameter in inspect.signature(init).parameters.values():
            if parameter.name in seen or parameter.name == "self" or parameter.kind in _VARIADIC:
                continue
            seen.add(parameter.name)
            default = (
                "required" if parameter.default is inspect.Parameter.empty else f"`{parameter.default!r}`"
            )
            yield f"| `{parameter.name}` | {_cell(default)} | {_cell(param_text(cls, parameter.name))} |\n"


_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def param_text(cls: type, name: str) -> str:
    """The ``:param name:`` text of the first class in ``cls``'s MRO that documents it."""
    for owner in cls.__mro__:
        for match in PARAM.finditer(inspect.cleandoc(owner.__doc__ or "")):
            if match.group("name") == name:
                return _markdown(" ".join(match.group("text").split()))
    raise SystemExit(f"{cls.__name__}: argument {name!r} has no :param {name}: in any docstring")


def method_rows(cls: type) -> Iterator[str]:
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        if name.startswith("_") or not member.__module__.startswith(PACKAGE):
            continue
        if not member.__doc__:
            raise SystemExit(f"{cls.__name__}.{name} has no docstring")
        first_line = inspect.cleandoc(member.__doc__).split("\n\n")[0]
        yield f"| `{name}` | {_cell(_markdown(' '.join(first_line.split())))} |\n"


def _own_classes(cls: type) -> Iterator[type]:
    """``cls`` and its bases that belong to this package, nearest first."""
    return (owner for owner in cls.__mro__ if owner.__module__.startswith(PACKAGE))


def _is_operator(cls: type) -> bool:
    return any(base.__name__ == "BaseOperator" for base in cls.__mro__)


def _is_hook(cls: type) -> bool:
    return any(base.__name__ == "BaseHook" for base in cls.__mro__)


def _markdown(text: str) -> str:
    """reStructuredText's inline forms as markdown: ``code`` and Sphinx roles become `code`."""
    return ROLE.sub(r"`\1`", text).replace("``", "`")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
