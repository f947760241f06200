"""How many nodes a ``$filter`` costs, counted as Creatio's OData validation counts them, and the check against the
limit (``MaxNodeCount``, 100 unless the site raised it: the connection extra ``odata_max_filter_nodes``).

Microsoft's ``FilterQueryValidator`` adds one to its count for every node of the bound filter it visits, and
refuses the query once the count passes the limit. Per form (``docs/creatio-notes/odata-query-limits.md``):

* ``a eq b``, ``a gt b`` ..., ``a and b``, ``a or b``: 1 + both sides; ``not a``: 1 + a.
* A property path: one node per segment plus the range variable it starts from: ``Name`` 2, ``Account/Name`` 3.
* A literal: 1. ``null`` compared with something typed: 2 (the binder wraps it in a convert node).
* A number or a date without a time: 2. The binder converts a literal whose type is not the column's (an Int32
  literal against an Edm.Decimal column, an Edm.Date against an Edm.DateTimeOffset); without the schema the
  client cannot tell, so it counts the convert node always and never undercounts.
* A function call: 1 + its arguments (``contains(Name,'x')`` is 4).
* Parentheses add nothing.

So ``Id eq <guid>`` costs 4 and every further ``or Id eq <guid>`` 5: 20 Ids fit in 100 nodes.

The grammar understood is the one the provider writes and documents (comparisons, ``and``/``or``/``not``,
function calls, paths, literals). A filter written with anything else (``in``, lambdas, arithmetic) is not
measured: :func:`filter_node_count` answers None and the server judges it.
"""

from __future__ import annotations

import re

from airflow_provider_creatio.client.errors import CreatioValidationError

DEFAULT_MAX_FILTER_NODES = 100  # MaxNodeCount's default in Microsoft's ODataValidationSettings
MIN_FILTER_NODES = 4  # Id eq <guid>: below this not even a lookup of one Id could be sent
_COMPARISONS = frozenset({"eq", "ne", "gt", "ge", "lt", "le"})
_KEYWORDS = _COMPARISONS | {"and", "or", "not"}
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?![\w-])
    | (?P<date>\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)?)(?![\w:.-])
    | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[mMdDfFlL]?)(?![\w.])
    | (?P<name>[A-Za-z_]\w*)
    | (?P<punct>[()/,])
    )\s*""",
    re.VERBOSE,
)


class _Unmeasured(Exception):
    """The filter uses syntax outside the understood grammar."""


class _Counter:
    """A recursive descent over the tokens that adds up nodes instead of building a tree."""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None or match.lastgroup is None or match.end() == position:
                raise _Unmeasured
            self.tokens.append((match.lastgroup, match.group(match.lastgroup)))
            position = match.end()
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise _Unmeasured
        self.index += 1
        return token

    def accept(self, text: str) -> bool:
        token = self.peek()
        if token is not None and token[1] == text and token[0] in ("name", "punct"):
            self.index += 1
            return True
        return False

    def whole(self) -> int:
        nodes = self.disjunction()
        if self.peek() is not None:
            raise _Unmeasured
        return nodes

    def disjunction(self) -> int:
        nodes = self.conjunction()
        while self.accept("or"):
            nodes += 1 + self.conjunction()
        return nodes

    def conjunction(self) -> int:
        nodes = self.negation()
        while self.accept("and"):
            nodes += 1 + self.negation()
        return nodes

    def negation(self) -> int:
        if self.accept("not"):
            return 1 + self.negation()
        return self.comparison()

    def comparison(self) -> int:
        left, left_null = self.operand()
        token = self.peek()
        if token is None or token[0] != "name" or token[1] not in _COMPARISONS:
            return left
        self.index += 1
        right, right_null = self.operand()
        return 1 + left + right + (left_null != right_null)  # a null beside a typed operand is converted

    def operand(self) -> tuple[int, bool]:
        """The operand's nodes, and whether it is the literal ``null``."""
        kind, text = self.take()
        if kind == "punct" and text == "(":
            nodes = self.disjunction()
            if not self.accept(")"):
                raise _Unmeasured
            return nodes, False
        if kind == "number" or (kind == "date" and "T" not in text):
            return 2, False
        if kind != "name":
            if kind == "punct":
                raise _Unmeasured
            return 1, False
        if text in ("true", "false", "null"):
            return 1, text == "null"
        if text in _KEYWORDS:
            raise _Unmeasured
        if self.accept("("):
            return 1 + self.arguments(), False
        segments = 1
        while self.accept("/"):
            if self.take()[0] != "name":
                raise _Unmeasured
            segments += 1
        return segments + 1, False

    def arguments(self) -> int:
        if self.accept(")"):
            return 0
        nodes = self.disjunction()
        while self.accept(","):
            nodes += self.disjunction()
        if not self.accept(")"):
            raise _Unmeasured
        return nodes


def filter_node_count(text: str) -> int | None:
    """The nodes Creatio's validator counts in the ``$filter`` value ``text``; None when the filter is written in
    syntax the client does not read (the server then judges it alone)."""
    try:
        return _Counter(text).whole()
    except _Unmeasured:
        return None


def check_filter_nodes(text: str, limit: int, what: str = "$filter") -> None:
    """Refuse ``text`` with a :class:`CreatioValidationError` naming its node count and ``limit`` when Creatio
    would refuse it; ``what`` says where the filter came from."""
    nodes = filter_node_count(text)
    if nodes is not None and nodes > limit:
        shown = text if len(text) <= 200 else text[:197] + "..."
        raise CreatioValidationError(
            f"{what} has {nodes} nodes, over Creatio's limit of {limit} per $filter (MaxNodeCount; the connection "
            f"extra odata_max_filter_nodes if the site raised it). Each 'Column eq value' costs about 4 nodes and "
            f"each and/or 1 more: split the query, or filter on a range instead of a list. The filter: {shown}"
        )
