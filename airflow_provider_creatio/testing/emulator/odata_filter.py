"""Parser for the OData 4 ``$filter`` subset Creatio clients use. Text in, syntax tree out; no schema knowledge.

Grammar (``not`` binds looser than a comparison, so ``not Name eq 'x'`` means ``not (Name eq 'x')``)::

    or_expr   := and_expr ('or' and_expr)*
    and_expr  := not_expr ('and' not_expr)*
    not_expr  := 'not' not_expr | comparison
    comparison:= operand (('eq'|'ne'|'gt'|'ge'|'lt'|'le') operand)?
    operand   := '(' or_expr ')' | name '(' args ')' | literal | path
    path      := name ('/' name)*

Literals: 'text' (a quote inside is doubled), unquoted GUIDs, numbers, true, false, null, and unquoted ISO 8601
dates or date-times.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

COMPARISONS = ("eq", "ne", "gt", "ge", "lt", "le")
_KEYWORD_LITERALS: dict[str, tuple[str, Any]] = {
    "true": ("bool", True),
    "false": ("bool", False),
    "null": ("null", None),
}

_TOKEN = re.compile(
    r"""(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?![\w-])
    | (?P<datetime>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?)(?![\w:.-])
    | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![\w.])
    | (?P<name>[A-Za-z_]\w*)
    | (?P<punct>[()/,])
    )""",
    re.VERBOSE,
)
_SPACE = re.compile(r"\s*")


class FilterSyntaxError(ValueError):
    """A ``$filter`` that does not parse. The message starts with "Syntax error", as the emulator answers it."""


@dataclass(frozen=True)
class Literal:
    kind: str  # string, guid, number, bool, null, datetime
    value: Any


@dataclass(frozen=True)
class Path:
    segments: tuple[str, ...]

    @property
    def text(self) -> str:
        return "/".join(self.segments)


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Compare:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Logical:
    op: str  # and, or
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    operand: Node


Node = Literal | Path | Call | Compare | Logical | Not


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


def tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = _skip_space(text, 0)
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            raise FilterSyntaxError(f"Syntax error at position {position} in '{text}'.")
        tokens.append(_Token(match.lastgroup, match.group(match.lastgroup), position))
        position = _skip_space(text, match.end())
    return tokens


def _skip_space(text: str, position: int) -> int:
    match = _SPACE.match(text, position)
    return position if match is None else match.end()


def _literal(token: _Token) -> Literal | None:
    if token.kind == "string":
        return Literal("string", token.text[1:-1].replace("''", "'"))
    if token.kind == "guid":
        return Literal("guid", token.text.lower())
    if token.kind == "datetime":
        return Literal("datetime", token.text)
    if token.kind == "number":
        is_float = any(mark in token.text for mark in ".eE")
        return Literal("number", float(token.text) if is_float else int(token.text))
    if token.kind == "name" and token.text in _KEYWORD_LITERALS:
        return Literal(*_KEYWORD_LITERALS[token.text])
    return None


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    def parse(self) -> Node:
        if not self.tokens:
            raise FilterSyntaxError("Syntax error: the $filter expression is empty.")
        node = self.or_expr()
        if self.index < len(self.tokens):
            self.fail(self.tokens[self.index])
        return node

    def fail(self, token: _Token | None) -> None:
        where = f"at position {token.position}" if token else "at the end"
        raise FilterSyntaxError(f"Syntax error {where} in '{self.text}'.")

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def next(self) -> _Token:
        token = self.peek()
        if token is None:
            self.fail(None)
        assert token is not None
        self.index += 1
        return token

    def accept(self, text: str) -> bool:
        token = self.peek()
        if token is not None and token.text == text and token.kind in ("name", "punct"):
            self.index += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            self.fail(self.peek())

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.accept("or"):
            node = Logical("or", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.not_expr()
        while self.accept("and"):
            node = Logical("and", node, self.not_expr())
        return node

    def not_expr(self) -> Node:
        if self.accept("not"):
            return Not(self.not_expr())
        return self.comparison()

    def comparison(self) -> Node:
        left = self.operand()
        token = self.peek()
        if token is not None and token.kind == "name" and token.text in COMPARISONS:
            self.index += 1
            return Compare(token.text, left, self.operand())
        return left

    def operand(self) -> Node:
        token = self.next()
        if token.kind == "punct" and token.text == "(":
            node = self.or_expr()
            self.expect(")")
            return node
        literal = _literal(token)
        if literal is not None:
            return literal
        if token.kind != "name" or token.text in ("and", "or", "not", *COMPARISONS):
            self.fail(token)
        if self.accept("("):
            return Call(token.text, self.arguments())
        segments = [token.text]
        while self.accept("/"):
            segment = self.next()
            if segment.kind != "name":
                self.fail(segment)
            segments.append(segment.text)
        return Path(tuple(segments))

    def arguments(self) -> tuple[Node, ...]:
        if self.accept(")"):
            return ()
        args = [self.or_expr()]
        while self.accept(","):
            args.append(self.or_expr())
        self.expect(")")
        return tuple(args)


def parse_filter(text: str) -> Node:
    """The syntax tree of a ``$filter`` value; FilterSyntaxError if it does not parse."""
    return _Parser(text).parse()
