"""What a block definition declares: its arguments, and parameter values that are expressions
of them (`out_channels: planes * 4`).

A block's arguments are `Param`s, the same declaration a layer's parameters use, so a block
node's inspector, its file check and its messages come from the same place. A parameter inside
a definition may hold an `Expr` instead of a value; each use works it out with its own argument
values. In a file an expression is `{"expr": "planes * 4"}`.
"""

from __future__ import annotations

import keyword
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from engine.blocks.expressions import Expression, ExpressionError, parse
from engine.errors import DesignError
from engine.fields import Param
from engine.limits import LONGEST_NAME
from engine.quoting import excerpt

ARGUMENT_KINDS = ("int", "float", "bool", "choice")
# A block node's own parameters; no argument may take their names.
BLOCK_PARAMS = ("block", "repeat")
LARGEST_REPEAT = 1_000


@dataclass(frozen=True)
class Expr:
    """A parameter value worked out at each use from the block's arguments."""

    text: str
    expression: Expression = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parsed = parse(self.text)
        object.__setattr__(self, "expression", parsed)
        object.__setattr__(self, "text", parsed.text)

    def value(self, arguments: Mapping[str, Any]) -> Any:
        return self.expression.value(arguments)

    def to_json(self) -> dict[str, str]:
        return {"expr": self.text}


def expr_from_json(value: Any) -> Expr | None:
    """The Expr a file's `{"expr": "..."}` holds, None for any other value; ExpressionError
    (a DesignError) when it is an expression that cannot be read."""
    if isinstance(value, Expr):
        return value
    if isinstance(value, dict) and set(value) == {"expr"}:
        return Expr(value["expr"]) if isinstance(value["expr"], str) else Expr(
            _not_text(value["expr"]))
    return None


def _not_text(value: Any) -> str:
    raise ExpressionError(f"an expression is a text such as \"planes * 4\", not {excerpt(value)}")


def evaluated(params: Mapping[str, Any], arguments: Mapping[str, Any]) -> dict[str, Any]:
    """`params` with each Expr replaced by its value for these arguments (ExpressionError says
    which parameter could not be worked out)."""
    values = {}
    for key, value in params.items():
        if isinstance(value, Expr):
            try:
                value = value.value(arguments)
            except ExpressionError as err:
                raise ExpressionError(f"'{key}': {err}") from None
        values[key] = value
    return values


def has_expressions(params: Mapping[str, Any]) -> bool:
    return any(isinstance(value, Expr) for value in params.values())


@dataclass(frozen=True)
class ModuleClass:
    """The Python class a definition's built modules take: its name, and whether it is an
    nn.Sequential (whose items, in order, are the definition's chain of layers)."""

    name: str
    sequential: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "sequential": self.sequential}

    @classmethod
    def from_json(cls, document: Any) -> ModuleClass:
        """DesignError says what is wrong with a file's `"class"` of a block."""
        if (not isinstance(document, dict) or set(document) - {"name", "sequential"}
                or not isinstance(document.get("sequential", False), bool)):
            raise DesignError(f"a block's class is an object with a name and, optionally, "
                              f"sequential (true or false), not {excerpt(document)}")
        problem = module_class_problem(document.get("name"))
        if problem:
            raise DesignError(problem)
        return cls(document["name"], document.get("sequential", False))


def module_class_problem(name: Any) -> str | None:
    """Why `name` cannot name a module class (it must be a Python name), or None."""
    if (not isinstance(name, str) or not name.isidentifier() or not name.isascii()
            or keyword.iskeyword(name) or len(name) > LONGEST_NAME):
        return f"a block's class name must be a plain Python name, not {excerpt(name)}"
    return None


# ---------------------------------------------------------------------------- arguments

def argument(name: str, kind: str, default: Any, **rules: Any) -> Param:
    """A block argument, checked as it is made (DesignError says what is wrong)."""
    problem = argument_name_problem(name)
    if problem:
        raise DesignError(problem)
    if kind not in ARGUMENT_KINDS:
        raise DesignError(f"argument {name!r}: its kind must be one of "
                          f"{', '.join(ARGUMENT_KINDS)}, not {excerpt(kind)}")
    try:
        declared = Param(name, kind, default, **rules)
        declared.coerce(default)
    except (TypeError, ValueError) as err:
        raise DesignError(f"argument {name!r}: {err}") from None
    return declared


def argument_name_problem(name: Any) -> str | None:
    """Why `name` cannot name a block argument (expressions and the exported class's
    constructor read it as a Python name), or None."""
    if not isinstance(name, str) or not name.isidentifier() or not name.isascii():
        return (f"an argument's name must be a plain name (letters, digits, _), not "
                f"{excerpt(name)}")
    if keyword.iskeyword(name) or name in ("self", "True", "False", "None"):
        return f"{name!r} is a Python keyword and cannot name an argument"
    if name in BLOCK_PARAMS:
        return f"{name!r} is a block node's own parameter and cannot name an argument"
    if len(name) > LONGEST_NAME:
        return f"an argument's name is at most {LONGEST_NAME} characters long"
    return None


_RULES = ("minimum", "maximum", "choices", "help")


def argument_to_json(declared: Param) -> dict[str, Any]:
    document = {"name": declared.name, "kind": declared.kind,
                "default": declared.to_json(declared.default)}
    for rule in _RULES:
        value = getattr(declared, rule)
        if value not in (None, "", ()):
            document[rule] = list(value) if isinstance(value, tuple) else value
    return document


def argument_from_json(document: Any) -> Param:
    """A block argument from its file form; DesignError names what is wrong."""
    if not isinstance(document, dict):
        raise DesignError(f"an argument is an object with name, kind and default, not "
                          f"{excerpt(document)}")
    unknown = set(document) - {"name", "kind", "default", *_RULES}
    if unknown:
        raise DesignError(f"an argument has no {', '.join(sorted(map(repr, unknown)))}; it has "
                          "name, kind, default, minimum, maximum, choices and help")
    rules = {rule: document[rule] for rule in _RULES if rule in document}
    if "choices" in rules:
        if not isinstance(rules["choices"], list) or not all(
                isinstance(choice, str) for choice in rules["choices"]):
            raise DesignError(f"argument {excerpt(document.get('name'))}: choices must be a "
                              "list of texts")
        rules["choices"] = tuple(rules["choices"])
    return argument(document.get("name"), document.get("kind"), document.get("default"),
                    **rules)
