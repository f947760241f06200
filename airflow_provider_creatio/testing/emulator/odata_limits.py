"""The query limits of Microsoft's ASP.NET OData validation, which Creatio's OData 4 service applies: a ``$filter``
of at most ``MaxNodeCount`` nodes (100), an ``$orderby`` of at most ``MaxOrderByNodeCount`` clauses (5), an
``$expand`` at most ``MaxExpansionDepth`` levels deep (2). A query over a limit is refused with the validator's own
message (see ``docs/creatio-notes/odata-query-limits.md``). A ``$filter``'s nodes are counted by
``odata_query._FilterCompiler``, which knows the operand types the count depends on.
"""

from __future__ import annotations

from dataclasses import dataclass


class QueryLimitError(ValueError):
    """A query over one of the limits (answered 400 in the OData error shape, as a QueryError is)."""


@dataclass(frozen=True)
class QueryLimits:
    """The validation settings of the emulated site; None switches a limit off."""

    filter_nodes: int | None = 100
    orderby_clauses: int | None = 5
    expansion_depth: int | None = 2


def check_filter_nodes(count: int, limits: QueryLimits) -> None:
    if limits.filter_nodes is not None and count > limits.filter_nodes:
        raise QueryLimitError(
            f"The node count limit of '{limits.filter_nodes}' has been exceeded. To increase the limit, set the "
            "'MaxNodeCount' property on EnableQueryAttribute or ODataValidationSettings."
        )


def check_orderby(text: str, limits: QueryLimits) -> None:
    """The validator counts the clauses (``Name, CreatedOn desc`` is two), before any column is looked up."""
    if limits.orderby_clauses is not None and len(text.split(",")) > limits.orderby_clauses:
        raise QueryLimitError(
            "The number of clauses in $orderby query option exceeded the maximum number allowed. The maximum "
            f"number of $orderby clauses allowed is {limits.orderby_clauses}."
        )


def check_expand(text: str, limits: QueryLimits) -> None:
    if limits.expansion_depth is not None and expand_depth(text) > limits.expansion_depth:
        raise QueryLimitError(
            "The request includes a $expand path which is too deep. The maximum depth allowed is "
            f"{limits.expansion_depth}. To increase the limit, set the 'MaxExpansionDepth' property on "
            "EnableQueryAttribute or ODataValidationSettings."
        )


def expand_depth(text: str) -> int:
    """How many levels an ``$expand`` value reaches: ``Account`` is 1, ``Account($expand=Owner)`` 2, and a path
    ``Account/Owner`` counts each of its navigation steps."""
    deepest = 0
    for item in split_top_level(text):
        path, _, options = item.strip().partition("(")
        nested = 0
        for option in split_top_level(options.rstrip().removesuffix(")"), ";"):
            name, _, value = option.partition("=")
            if name.strip() == "$expand":
                nested = max(nested, expand_depth(value))
        deepest = max(deepest, len(path.strip().split("/")) + nested)
    return deepest


def split_top_level(text: str, separator: str = ",") -> list[str]:
    """Split at ``separator`` outside parentheses."""
    items, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == separator and depth == 0:
            items.append(text[start:index])
            start = index + 1
    items.append(text[start:])
    return items
