"""Editing a block definition's arguments: add, change (rename, retype, new default or range),
remove, and make one from a layer's value. Each function makes Design edits only, so a caller
wraps it in one undo step; a refused edit raises DesignError before changing anything.

Renaming an argument renames it in every expression inside the definition that reads it and
keeps every use's value. Removing an argument that expressions read is refused, naming them:
putting the default in their place would silently give every use the same value, which is
seldom what its author meant, so the author decides what each expression becomes.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from engine.blocks.definitions import Expr, argument, argument_name_problem
from engine.blocks.grouping import free_name
from engine.design import Design
from engine.errors import DesignError
from engine.fields import Param
from engine.limits import LARGEST_WHOLE_NUMBER

NEW_ARGUMENT_STEM = "argument1"


def readers(design: Design, block: str, name: str) -> list[str]:
    """Every parameter inside `block` (as "node.parameter") whose expression reads `name`."""
    found = []
    for node_id in design.nodes(block):
        node = design.node(node_id)
        found += [f"{node.name}.{key}" for key, value in node.params.items()
                  if isinstance(value, Expr) and name in value.expression.names()]
    return found


def checked(declared: Param) -> Param:
    """`declared` as a block argument whose default lies in its range (DesignError says what
    is wrong: the name, the kind, an empty list of choices, a range upside down, the default)."""
    if declared.kind == "choice" and not declared.choices:
        raise DesignError(f"argument {declared.name!r}: a choice needs at least one choice")
    made = argument(declared.name, declared.kind, declared.default, minimum=declared.minimum,
                    maximum=declared.maximum, choices=declared.choices, help=declared.help)
    if made.minimum is not None and made.maximum is not None and made.minimum > made.maximum:
        raise DesignError(f"argument {made.name!r}: its minimum {made.minimum:g} is above its "
                          f"maximum {made.maximum:g}")
    made = replace(made, default=made.coerce(made.default))
    problem = made.range_problem(made.default)
    if problem:
        raise DesignError(f"{problem} (the default)")
    return made


def add_argument(design: Design, block: str, declared: Param | None = None) -> Param:
    """Give `block` one more argument (by default a whole number, 1, under a free name);
    every use takes its default."""
    arguments = design.block_arguments(block)
    if declared is None:
        name = free_name(NEW_ARGUMENT_STEM, {a.name for a in arguments})
        declared = argument(name, "int", 1)
    declared = checked(declared)
    _refuse_taken(arguments, declared.name, block)
    design.set_block_arguments(block, [*arguments, declared])
    return declared


def change_argument(design: Design, block: str, name: str, declared: Param) -> None:
    """Replace argument `name` of `block` by `declared` (another name, kind, default or
    range): expressions inside the block follow a new name, and every use keeps its value
    where it still fits the argument (else it takes the new default)."""
    arguments = list(design.block_arguments(block))
    index = _index(arguments, name, block)
    declared = checked(declared)
    if declared.name != name:
        _refuse_taken(arguments, declared.name, block)
    kept = {use: design.node(use).params[name] for use in design.uses_of(block)}
    arguments[index] = declared
    design.set_block_arguments(block, arguments)
    for use, value in kept.items():
        if isinstance(value, Expr) or declared.problem(value) is None:
            design.set_params(use, **{declared.name: value})
    if declared.name != name:
        _rename_in_expressions(design, block, name, declared.name)


def rename_argument(design: Design, block: str, old: str, new: str) -> None:
    """Rename argument `old` of `block` to `new`, in its expressions and uses too."""
    arguments = design.block_arguments(block)
    change_argument(design, block, old, replace(arguments[_index(arguments, old, block)],
                                                name=new))


def remove_argument(design: Design, block: str, name: str) -> None:
    """Remove an argument no expression reads (DesignError names the readers otherwise)."""
    arguments = design.block_arguments(block)
    _index(arguments, name, block)
    read = readers(design, block, name)
    if read:
        raise DesignError(f"{', '.join(read)} read{'s' * (len(read) == 1)} {name!r}; give "
                          f"{'it' if len(read) == 1 else 'them'} a value or another expression "
                          "first")
    design.set_block_arguments(block, [a for a in arguments if a.name != name])


def with_kind(declared: Param, kind: str) -> Param:
    """`declared` turned into another kind, its default and range carried over where they
    mean something (a number keeps its value and bounds; a choice starts with the old
    default as its one choice)."""
    if kind == declared.kind:
        return declared
    default = declared.default
    if kind in ("int", "float"):
        low, high = ((_bound(declared.minimum, kind), _bound(declared.maximum, kind))
                     if declared.kind in ("int", "float") else (None, None))
        number = default if declared.kind in ("int", "float") else 0
        number = min(max(number, low if low is not None else number),
                     high if high is not None else number)
        value = round(number) if kind == "int" else float(number)
        return Param(declared.name, kind, value, help=declared.help, minimum=low, maximum=high)
    if kind == "bool":
        return Param(declared.name, kind, declared.kind != "choice" and bool(default),
                     help=declared.help)
    return Param(declared.name, kind, str(default), help=declared.help, choices=(str(default),))


def make_argument(design: Design, node_id: str, key: str, name: str | None = None) -> str:
    """Turn parameter `key` of a layer inside a definition into a new argument of that block
    (default: the layer's value now, named after the parameter) that the layer reads; every
    use takes that default, so nothing changes until a use sets its own. Returns the name."""
    block = design.network_of(node_id)
    if not design.is_block(block):
        raise DesignError(f"{design.node(node_id).name!r} is in network {block!r}; only a "
                          "layer inside a block definition can read an argument")
    field = design.fields_of(node_id).get(key)
    if field is None:
        raise DesignError(f"{design.node(node_id).name!r} has no parameter {key!r}")
    value = design.node(node_id).params[key]
    if isinstance(value, Expr):
        raise DesignError(f"'{key}' is already the expression {value.text}")
    taken = {a.name for a in design.block_arguments(block)}
    name = name or free_name(key if argument_name_problem(key) is None else f"{key}_value",
                             taken)
    add_argument(design, block, argument_for(field, value, name))
    design.set_params(node_id, **{key: Expr(name)})
    return name


def argument_kind(field: Param, value: Any) -> str | None:
    """The kind of argument that can stand for `field`'s `value`, or None when none can (a
    list, a text, None, an expression already)."""
    if isinstance(value, bool):
        return "bool"
    if field.kind == "choice":
        return "choice"
    if isinstance(value, int):
        return "int"
    return "float" if isinstance(value, float) else None


def argument_for(field: Param, value: Any, name: str) -> Param:
    """An argument that can stand for `field`'s `value` (its kind, bounds and help), or
    DesignError when no argument kind holds that value."""
    kind = argument_kind(field, value)
    if kind is None:
        raise DesignError(f"'{field.name}' is {value!r}; an argument holds a whole number, a "
                          "number, true/false or a choice")
    rules: dict[str, Any] = {"help": field.help}
    if kind == "choice":
        rules["choices"] = field.choices
    elif kind in ("int", "float"):
        rules["minimum"] = field.minimum
        if field.minimum is None and field.above is not None and kind == "int":
            rules["minimum"] = math.floor(field.above) + 1
        rules["maximum"] = field.maximum
    return checked(Param(name, kind, value, **rules))


def _bound(bound: float | None, kind: str) -> float | None:
    """A bound carried over to a number kind (the whole-number ceiling means no bound)."""
    if bound is None or bound == LARGEST_WHOLE_NUMBER:
        return None
    return int(bound) if kind == "int" and float(bound).is_integer() else bound


def _index(arguments: tuple[Param, ...] | list[Param], name: str, block: str) -> int:
    for index, declared in enumerate(arguments):
        if declared.name == name:
            return index
    raise DesignError(f"block {block!r} has no argument {name!r}; it has "
                      f"{', '.join(a.name for a in arguments) or 'none'}")


def _refuse_taken(arguments: tuple[Param, ...] | list[Param], name: str, block: str) -> None:
    if any(a.name == name for a in arguments):
        raise DesignError(f"block {block!r} already has an argument named {name!r}; each "
                          "argument needs its own name")


def _rename_in_expressions(design: Design, block: str, old: str, new: str) -> None:
    for node_id in design.nodes(block):
        renamed = {key: Expr(value.expression.renamed({old: new}).text)
                   for key, value in design.node(node_id).params.items()
                   if isinstance(value, Expr) and old in value.expression.names()}
        if renamed:
            design.set_params(node_id, **renamed)
