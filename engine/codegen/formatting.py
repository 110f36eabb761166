"""Lay out generated statements exactly as `ruff format` (default settings) would.

The generator writes each statement as one line of Python; this module parses it and breaks it
over several lines when it is longer than 88 columns, following ruff's rules for the statement
shapes generated code uses: assignments and returns of calls, subscripts, literals and operator
chains, `def` headers and imports. Exported files are therefore left unchanged by `ruff format`
without ruff being needed at run time (tests compare against ruff itself).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

LINE_LENGTH = 88
INDENT = "    "

# Binding strength of the operators generated code uses (higher binds tighter).
_PRECEDENCE = {ast.Add: 11, ast.Sub: 11, ast.Mult: 12, ast.Div: 12, ast.FloorDiv: 12,
               ast.Mod: 12, ast.MatMult: 12, ast.Pow: 14}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
           ast.Mod: "%", ast.MatMult: "@", ast.Pow: "**"}
_UNARY = {ast.USub: "-", ast.UAdd: "+", ast.Invert: "~"}
_ATOM = 20


def format_statement(code: str, depth: int) -> list[str]:
    """The lines of one simple statement, indented by `depth` levels."""
    (statement,) = ast.parse(code).body
    indent = INDENT * depth
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        return _statement(indent, statement.targets[0], "", statement.value)
    if isinstance(statement, ast.Return):
        if statement.value is None:
            return [f"{indent}return"]
        return _statement(indent, None, "return ", statement.value)
    if isinstance(statement, ast.Expr):
        return _statement(indent, None, "", statement.value)
    raise ValueError(f"cannot lay out this statement: {code!r}")


def format_def(depth: int, name: str, parameters: list[str], returns: str | None) -> list[str]:
    """A `def` line; parameters move to their own line(s) when it is too long."""
    indent = INDENT * depth
    tail = f") -> {returns}:" if returns else "):"
    line = f"{indent}def {name}({', '.join(parameters)}{tail}"
    if _fits(line):
        return [line]
    inner = indent + INDENT
    joined = inner + ", ".join(parameters)
    if _fits(joined) and len(parameters) > 1:
        return [f"{indent}def {name}(", joined, indent + tail]
    return [f"{indent}def {name}(", *(f"{inner}{p}," for p in parameters), indent + tail]


def format_from_import(module: str, names: list[str]) -> list[str]:
    """`from module import a, b` or, when too long, one name per line."""
    line = f"from {module} import {', '.join(names)}"
    if _fits(line):
        return [line]
    return [f"from {module} import (", *(f"{INDENT}{name}," for name in names), ")"]


def string_literal(text: str) -> str:
    """A string literal in ruff's preferred quotes (double, unless that needs more escapes)."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in text:
        return f'"{literal[1:-1]}"'
    return literal


# ---------------------------------------------------------------------------- flat text

def _flat(node: ast.AST, top: bool = False) -> str:
    """The expression on one line, spelled as ruff spells it."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Constant):
        return _constant(node.value)
    if isinstance(node, ast.Attribute):
        return f"{_operand(node.value, _ATOM)}.{node.attr}"
    if isinstance(node, ast.Call):
        items = ", ".join(head + _flat(value) for head, value in _items(node))
        return f"{_operand(node.func, _ATOM)}({items})"
    if isinstance(node, ast.Subscript):
        return f"{_operand(node.value, _ATOM)}[{_flat_slice(node.slice)}]"
    if isinstance(node, ast.Tuple):
        inner = ", ".join(_flat(e) for e in node.elts)
        if len(node.elts) == 1:
            inner += ","
        return inner if top and node.elts else f"({inner})"
    if isinstance(node, ast.List):
        return f"[{', '.join(_flat(e) for e in node.elts)}]"
    if isinstance(node, ast.Dict):
        return "{" + ", ".join(f"{_flat(k)}: {_flat(v)}" for k, v in _dict_pairs(node)) + "}"
    if isinstance(node, ast.BinOp):
        precedence = _PRECEDENCE[type(node.op)]
        left = _operand(node.left, precedence)
        right = _operand(node.right, precedence + 1)
        return f"{left} {_SYMBOL[type(node.op)]} {right}"
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)] + _operand(node.operand, 13)
    if isinstance(node, ast.Starred):
        return f"*{_flat(node.value)}"
    if isinstance(node, ast.Slice):
        return _flat_slice(node)
    if isinstance(node, ast.ListComp) and len(node.generators) == 1 \
            and not node.generators[0].ifs:
        loop = node.generators[0]
        return f"[{_flat(node.elt)} for {_flat(loop.target, top=True)} in {_flat(loop.iter)}]"
    raise ValueError(f"cannot lay out {ast.dump(node)}")


def _operand(node: ast.AST, needed: int) -> str:
    text = _flat(node)
    return f"({text})" if _strength(node) < needed else text


def _strength(node: ast.AST) -> int:
    if isinstance(node, ast.BinOp):
        return _PRECEDENCE[type(node.op)]
    if isinstance(node, ast.UnaryOp):
        return 13
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return 13 if node.value < 0 else _ATOM - 1  # `(-1).abs()`, `(1).real`
    if isinstance(node, ast.Tuple):
        return 0
    return _ATOM


def _constant(value: object) -> str:
    if isinstance(value, str):
        return string_literal(value)
    if value is Ellipsis:
        return "..."
    return repr(value)


def _flat_slice(node: ast.AST) -> str:
    if isinstance(node, ast.Slice):
        parts = [_flat(part) if part is not None else "" for part in
                 (node.lower, node.upper, node.step)]
        return ":".join(parts if node.step is not None else parts[:2])
    if isinstance(node, ast.Tuple):
        return ", ".join(_flat_slice(e) for e in node.elts)
    return _flat(node)


def _dict_pairs(node: ast.Dict) -> list[tuple[ast.AST, ast.AST]]:
    if any(key is None for key in node.keys):
        raise ValueError("cannot lay out ** in a dict display")
    return list(zip(node.keys, node.values))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- broken layouts

@dataclass
class _Group:
    """A bracketed part of an expression where a line may break: call arguments, a subscript,
    a list, dict or tuple display. `items` are (prefix, expression) pairs such as ("dim=", 1)."""

    opener: str
    items: list[tuple[str, ast.AST]]
    closer: str
    is_tuple: bool = False

    def flat(self) -> str:
        texts = [head + _flat_item(item) for head, item in self.items]
        trailing = "," if self.is_tuple and len(texts) == 1 else ""
        return self.opener + ", ".join(texts) + trailing + self.closer


def _fits(line: str) -> bool:
    return len(line) <= LINE_LENGTH


def _statement(indent: str, target: ast.AST | None, keyword: str, value: ast.AST) -> list[str]:
    """`target = value`, `return value` or a bare expression, broken the way ruff breaks it.

    Ruff keeps a statement on one line if it can; otherwise it breaks the leftmost bracket
    group that does not fit, then the next; when that leaves the first line too long and the
    target has no brackets of its own, it puts the value in parentheses instead.
    """
    head: list[str | _Group] = [keyword] if keyword else []
    if target is not None:
        head = [*_tokens(target, top=True), " = "]
    line = indent + _joined(head) + _flat(value, top=True)
    if _fits(line):
        return [line]
    if isinstance(value, ast.Tuple):
        return [indent + _joined(head) + "(", *_exploded(indent + INDENT, value.elts),
                indent + ")"]
    value_tokens = _tokens(value)
    if head and len(_fluent_segments(value_tokens)) > 2:
        return [indent + _joined(head) + "(", *_expression(indent + INDENT, value), indent + ")"]
    greedy = _greedy(indent, head + value_tokens, "")
    if any(isinstance(token, _Group) for token in head):
        return greedy
    value_has_groups = any(isinstance(token, _Group) for token in value_tokens)
    if value_has_groups and _fits(greedy[0]):
        return greedy
    opened = indent + _joined(head) + "("
    if head and (value_has_groups or isinstance(value, ast.BinOp)) and _fits(opened):
        return [opened, *_expression(indent + INDENT, value), indent + ")"]
    return greedy


def _expression(indent: str, value: ast.AST) -> list[str]:
    """An expression with lines of its own (inside parentheses), broken if it must be."""
    line = indent + _flat(value)
    if _fits(line):
        return [line]
    if isinstance(value, ast.BinOp):
        return _operator_chain(indent, value)
    segments = _fluent_segments(_tokens(value))
    if len(segments) > 2:
        return [line for segment in segments for line in _greedy(indent, segment, "")]
    return _greedy(indent, _tokens(value), "")


def _fluent_segments(tokens: list[str | _Group]) -> list[list[str | _Group]]:
    """Split a chain before each attribute that follows brackets (`a[0]` | `.b[1]` | `.c(x)`).

    Ruff lays out chains with two or more such attributes "fluently", one per line.
    """
    segments: list[list[str | _Group]] = [[]]
    for index, token in enumerate(tokens):
        if isinstance(token, str) and token.startswith(".") and index and isinstance(
                tokens[index - 1], _Group):
            segments.append([])
        segments[-1].append(token)
    return segments


def _operator_chain(indent: str, value: ast.BinOp) -> list[str]:
    """`a + b + c` as one operand per line, each after its operator."""
    precedence = _PRECEDENCE[type(value.op)]
    operands: list[tuple[str, ast.AST]] = []
    node: ast.AST = value
    while isinstance(node, ast.BinOp) and _PRECEDENCE[type(node.op)] == precedence:
        operands.append((_SYMBOL[type(node.op)] + " ", node.right))
        node = node.left
    operands.append(("", node))
    operands.reverse()
    return [indent + symbol + _operand(operand, precedence if index == 0 else precedence + 1)
            for index, (symbol, operand) in enumerate(operands)]


def _tokens(node: ast.AST, top: bool = False) -> list[str | _Group]:
    """The expression as text pieces and the bracket groups it may break at."""
    if isinstance(node, ast.Attribute) and _strength(node.value) >= _ATOM:
        return [*_tokens(node.value), f".{node.attr}"]
    if isinstance(node, ast.Call) and _strength(node.func) >= _ATOM and (
            node.args or node.keywords):
        return [*_tokens(node.func), _Group("(", _items(node), ")")]
    if isinstance(node, ast.Subscript) and _strength(node.value) >= _ATOM:
        elements = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        return [*_tokens(node.value), _Group("[", [("", e) for e in elements], "]")]
    if isinstance(node, ast.List) and node.elts:
        return [_Group("[", [("", e) for e in node.elts], "]")]
    if isinstance(node, ast.Dict) and node.keys:
        return [_Group("{", [(f"{_flat(k)}: ", v) for k, v in _dict_pairs(node)], "}")]
    if isinstance(node, ast.Tuple) and node.elts and not top:
        return [_Group("(", [("", e) for e in node.elts], ")", is_tuple=True)]
    return [_flat(node, top=top)]


def _joined(tokens: list[str | _Group]) -> str:
    return "".join(token if isinstance(token, str) else token.flat() for token in tokens)


def _greedy(indent: str, tokens: list[str | _Group], suffix: str) -> list[str]:
    """Break, from the left, each bracket group whose line would not fit up to the next place
    a line can break (the next group's opening bracket, or the end)."""
    lines: list[str] = []
    current = indent
    for index, token in enumerate(tokens):
        if isinstance(token, str):
            current += token
            continue
        if _fits(current + token.flat() + _until_break(tokens[index + 1:], suffix)):
            current += token.flat()
            continue
        lines.append(current + token.opener)
        lines.extend(_contents(indent + INDENT, token))
        current = indent + token.closer
    lines.append(current + suffix)
    return lines


def _until_break(tokens: list[str | _Group], suffix: str) -> str:
    text = ""
    for token in tokens:
        if isinstance(token, _Group):
            return text + token.opener
        text += token
    return text + suffix


def _contents(indent: str, group: _Group) -> list[str]:
    """The inside of a broken group: on one line if it fits, else one item per line."""
    joined = indent + group.flat()[len(group.opener):-len(group.closer)]
    if _fits(joined):
        return [joined]
    if len(group.items) == 1 and not group.is_tuple:
        head, item = group.items[0]
        return _item(indent, head, item, "")
    return [line for head, item in group.items for line in _item(indent, head, item, ",")]


def _exploded(indent: str, elements: list[ast.expr]) -> list[str]:
    return [line for element in elements for line in _item(indent, "", element, ",")]


def _item(indent: str, head: str, value: ast.AST, suffix: str) -> list[str]:
    line = indent + head + _flat_item(value) + suffix
    if _fits(line):
        return [line]
    return _greedy(indent, [head, *_tokens(value)], suffix)


def _flat_item(node: ast.AST) -> str:
    return _flat_slice(node) if isinstance(node, ast.Slice) else _flat(node)


def _items(call: ast.Call) -> list[tuple[str, ast.AST]]:
    items: list[tuple[str, ast.AST]] = [("", arg) for arg in call.args]
    for keyword in call.keywords:
        items.append((f"{keyword.arg}=" if keyword.arg else "**", keyword.value))
    return items
