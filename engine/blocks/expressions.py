"""Small arithmetic over a block's arguments (`planes * 4`, `(width + 1) // 2`), parsed here and
never handed to Python's `eval`: a design file is data, and its expressions must not run code.

The grammar is a subset of Python's with the same meaning, so the exported class can write the
expression as it is: argument names, whole-number literals, unary minus, `+ - * //` and
parentheses. A bare name may also stand for a boolean or a choice argument (`bias: use_bias`);
arithmetic needs numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NoReturn

from engine.errors import DesignError
from engine.limits import LARGEST_ELEMENT_COUNT

LONGEST_EXPRESSION = 200
DEEPEST_NESTING = 32
_TOKEN = re.compile(r"\s*(?:(?P<number>\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>//|[-+*()]))")

Value = int | float | bool | str


class ExpressionError(DesignError):
    """An expression that cannot be read, or cannot be worked out with the given arguments."""


@dataclass(frozen=True)
class Literal:
    value: int


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Negation:
    operand: Term


@dataclass(frozen=True)
class Operation:
    operator: str
    left: Term
    right: Term


Term = Literal | Name | Negation | Operation
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "//": 2}


@dataclass(frozen=True)
class Expression:
    """A parsed expression; `text` is its canonical spelling (valid Python with the same value)."""

    tree: Term

    @property
    def text(self) -> str:
        return _spell(self.tree, 0)

    def names(self) -> frozenset[str]:
        """The argument names the expression reads."""
        return frozenset(_names(self.tree))

    def value(self, arguments: Mapping[str, Value]) -> Value:
        """The expression worked out with `arguments`; ExpressionError names what is missing
        or wrong (an unknown name, arithmetic on a choice, division by zero, a huge result)."""
        return _evaluate(self.tree, arguments, self.text)

    def renamed(self, names: Mapping[str, str]) -> Expression:
        """The same expression reading other argument names (for code that renames them)."""
        return Expression(_rename(self.tree, names))

    def __str__(self) -> str:
        return self.text


def parse(text: str) -> Expression:
    """`text` as an Expression; ExpressionError says what is wrong and at which character."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression is text, not {type(text).__name__}")
    if len(text) > LONGEST_EXPRESSION:
        raise ExpressionError(f"the expression is {len(text):,} characters long; at most "
                              f"{LONGEST_EXPRESSION} are allowed")
    parser = _Parser(text)
    tree = parser.expression(0)
    parser.expect_end()
    return Expression(tree)


class _Parser:
    """Recursive descent over tokens; each error points at the character it stopped at."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, str, int]] = []
        position = 0
        while position < len(text.rstrip()):
            match = _TOKEN.match(text, position)
            if match is None:
                column = len(text) - len(text[position:].lstrip()) + 1
                self._fail(f"{text[column - 1]!r} is not allowed (only argument names, whole "
                           "numbers, + - * // and parentheses)", column)
            kind = match.lastgroup or "op"
            self.tokens.append((kind, match.group(kind), match.start(kind) + 1))
            position = match.end()
        self.index = 0

    def expression(self, depth: int) -> Term:
        if depth > DEEPEST_NESTING:
            self._fail(f"the expression nests deeper than {DEEPEST_NESTING} levels", self._column())
        return self._binary(1, depth)

    def _binary(self, rank: int, depth: int) -> Term:
        """Operators of `rank` (1: + -, 2: * //), left to right, over operands of the next."""
        operand = (lambda: self._binary(2, depth)) if rank == 1 else (lambda: self._unary(depth))
        left = operand()
        while _PRECEDENCE.get(self._peek_op() or "") == rank:
            operator = self.tokens[self.index][1]
            self.index += 1
            left = Operation(operator, left, operand())
        return left

    def _unary(self, depth: int) -> Term:
        if self._peek_op() == "-":
            self.index += 1
            return Negation(self._unary(depth + 1))
        return self._atom(depth)

    def _atom(self, depth: int) -> Term:
        if self.index >= len(self.tokens):
            self._fail("the expression ends too soon: a number, a name or '(' should follow",
                       len(self.text) + 1)
        kind, token, column = self.tokens[self.index]
        self.index += 1
        if kind == "number":
            number = int(token)
            if number > LARGEST_ELEMENT_COUNT:
                self._fail(f"{token[:20]}... is too large a number", column)
            return Literal(number)
        if kind == "name":
            return Name(token)
        if token == "(":
            inner = self.expression(depth + 1)
            if self._peek_op() != ")":
                self._fail("'(' is never closed", column)
            self.index += 1
            return inner
        self._fail(f"{token!r} here: a number, a name or '(' should come first", column)

    def expect_end(self) -> None:
        if self.index < len(self.tokens):
            _, token, column = self.tokens[self.index]
            self._fail(f"{token!r} here: an operator (+ - * //) or the end should come", column)

    def _peek_op(self) -> str | None:
        if self.index < len(self.tokens) and self.tokens[self.index][0] == "op":
            return self.tokens[self.index][1]
        return None

    def _column(self) -> int:
        return self.tokens[self.index][2] if self.index < len(self.tokens) else len(self.text) + 1

    def _fail(self, reason: str, column: int) -> NoReturn:
        raise ExpressionError(f"cannot read the expression {self.text!r}: {reason} "
                              f"(character {column})")


def _names(term: Term) -> list[str]:
    if isinstance(term, Name):
        return [term.name]
    if isinstance(term, Negation):
        return _names(term.operand)
    if isinstance(term, Operation):
        return _names(term.left) + _names(term.right)
    return []


def _rename(term: Term, names: Mapping[str, str]) -> Term:
    if isinstance(term, Name):
        return Name(names.get(term.name, term.name))
    if isinstance(term, Negation):
        return Negation(_rename(term.operand, names))
    if isinstance(term, Operation):
        return Operation(term.operator, _rename(term.left, names), _rename(term.right, names))
    return term


def _spell(term: Term, outer: int) -> str:
    """Python source for `term`, with parentheses only where precedence needs them."""
    if isinstance(term, Literal):
        return str(term.value)
    if isinstance(term, Name):
        return term.name
    if isinstance(term, Negation):
        return f"-{_spell(term.operand, 3)}"
    rank = _PRECEDENCE[term.operator]
    # Left-associative: the right side of an equal-rank operator keeps its parentheses.
    text = f"{_spell(term.left, rank)} {term.operator} {_spell(term.right, rank + 1)}"
    return f"({text})" if rank < outer else text


def _evaluate(term: Term, arguments: Mapping[str, Value], text: str) -> Value:
    if isinstance(term, Literal):
        return term.value
    if isinstance(term, Name):
        if term.name not in arguments:
            known = ", ".join(sorted(arguments)) or "none"
            raise ExpressionError(f"{text!r} reads {term.name!r}, which is not an argument of "
                                  f"the block (its arguments: {known})")
        return arguments[term.name]
    if isinstance(term, Negation):
        return -_number(_evaluate(term.operand, arguments, text), term.operand, text)
    left = _number(_evaluate(term.left, arguments, text), term.left, text)
    right = _number(_evaluate(term.right, arguments, text), term.right, text)
    if term.operator == "//" and right == 0:
        raise ExpressionError(f"{text!r} divides by zero with these arguments")
    result = {"+": lambda: left + right, "-": lambda: left - right,
              "*": lambda: left * right, "//": lambda: left // right}[term.operator]()
    if abs(result) > LARGEST_ELEMENT_COUNT:
        raise ExpressionError(f"{text!r} comes to more than {LARGEST_ELEMENT_COUNT:,} with "
                              "these arguments")
    return result


def _number(value: Value, term: Term, text: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ExpressionError(f"{text!r} does arithmetic with {_spell(term, 0)!r}, which is "
                              f"{value!r}, not a number")
    return value
