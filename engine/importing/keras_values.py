"""The values a Keras snippet writes, read from its syntax tree without running anything.

Tutorial code gives layer arguments as literals (`Dense(64)`), names bound to literals earlier
(`num_classes = 10`), small arithmetic (`28 * 28`), dotted names (`tf.nn.relu`) and calls
(`Adam(learning_rate=1e-3)`, `Bidirectional(LSTM(64))`). Those are read here; anything else
(`x_train.shape[1:]`) becomes an `Unreadable` that says what it was, so a caller can refuse
only when it needs that value.
"""

from __future__ import annotations

import ast
import operator
from dataclasses import dataclass, field
from typing import Any

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
           ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
           ast.Pow: operator.pow}
_LARGEST_POWER = 64  # 2 ** 64 is the most a size can sensibly be; larger is refused


@dataclass(frozen=True)
class Unreadable:
    """A value the source computes at run time; `text` is how the source writes it."""

    text: str
    line: int


@dataclass(frozen=True)
class Dotted:
    """A dotted name such as `tf.nn.relu`; `last` is what it names (`relu`)."""

    path: str

    @property
    def last(self) -> str:
        return self.path.rpartition(".")[2]


@dataclass
class CallValue:
    """A call written in the source: `keras.layers.Dense(64, activation='relu')` has name
    'Dense', path 'keras.layers.Dense', one positional and one keyword argument."""

    path: str
    args: list[Any]
    kwargs: dict[str, Any]
    line: int
    text: str
    node: ast.Call | None = field(repr=False)  # None: an operator (`x + y`)

    @property
    def name(self) -> str:
        return self.path.rpartition(".")[2]


def dotted_path(node: ast.expr) -> str | None:
    """`tf.keras.layers.Dense` as a string, or None when the expression is not a dotted name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


class ValueReader:
    """Evaluates expressions against the names the snippet has bound to values so far."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.names: dict[str, Any] = {}

    def text(self, node: ast.AST) -> str:
        segment = ast.get_source_segment(self.source, node) or ast.dump(node)
        return " ".join(segment.split())

    def value(self, node: ast.expr) -> Any:
        """The value `node` writes, or an Unreadable."""
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, (ast.Tuple, ast.List)):
            items = [self.value(item) for item in node.elts]
            return tuple(items) if isinstance(node, ast.Tuple) else items
        if isinstance(node, ast.Name) and node.id in self.names:
            return self.names[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.value(node.operand)
            if _is_number(operand):
                return -operand if isinstance(node.op, ast.USub) else operand
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            result = self._arithmetic(node)
            if result is not None:
                return result
        if isinstance(node, ast.Call):
            path = dotted_path(node.func)
            if path is not None:
                kwargs = {kw.arg or "**": self.value(kw.value) if kw.arg else
                          Unreadable(self.text(kw.value), node.lineno) for kw in node.keywords}
                return CallValue(path, [self.value(arg) for arg in node.args], kwargs,
                                 node.lineno, self.text(node), node)
        path = dotted_path(node)
        if path is not None and "." in path:
            return Dotted(path)
        return Unreadable(self.text(node), getattr(node, "lineno", 0))

    def _arithmetic(self, node: ast.BinOp) -> Any:
        left, right = self.value(node.left), self.value(node.right)
        if not (_is_number(left) and _is_number(right)):
            return None
        if isinstance(node.op, ast.Pow) and abs(right) > _LARGEST_POWER:
            return None
        try:
            return _BINARY[type(node.op)](left, right)
        except (ArithmeticError, ValueError):
            return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def readable(value: Any) -> bool:
    """Whether a value (and everything inside it) was read from the source."""
    if isinstance(value, Unreadable):
        return False
    if isinstance(value, (tuple, list)):
        return all(readable(item) for item in value)
    return True
