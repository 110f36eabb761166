"""The constructor call that creates a layer's module, as Python source (`nn.Linear(1568, 10)`).

Each layer declares its call as data (`engine.layers.module_call.ModuleCall`); the app builds
the module by making the call, and this module writes the same call as text, each argument as
its `repr`. Nothing here imports torch: the layout (quotes, line breaks) is left to the
formatter that lays out the whole file (engine.codegen.layout).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.errors import DesignError
from engine.layers import LayerSpec, TensorInfo
from engine.layers.module_call import ModuleCall
from engine.training import excerpt

_PORTABLE = "engine.training.portable."
_PLAIN_TYPES = (bool, int, float, str, type(None))


@dataclass(frozen=True)
class Construction:
    """`expression` creates the module; `imports` are the import lines it needs, `definitions`
    the source of the portable functions it calls."""

    expression: str
    imports: frozenset[str]
    definitions: tuple[str, ...] = ()


def construction(spec: LayerSpec, inputs: list[TensorInfo], params: dict[str, Any]
                 ) -> Construction:
    """The source of the call that `spec.build(inputs, params)` makes."""
    if spec.constructor is None:
        raise DesignError(f"{spec.name} has no module: its code is written inline")
    return call_source(spec.constructor(inputs, dict(params)))


def call_source(call: ModuleCall) -> Construction:
    """`nn.X(...)` for a class of torch.nn, the bare name of a portable function (whose
    source the script copies in), the full dotted path for anything else; an argument that is
    itself a call is written as its source (`nn.Parameter(torch.zeros(1, 1, 768))`)."""
    inner = {key: call_source(value) for key, value in _arguments(call)
             if isinstance(value, ModuleCall)}
    written = {key: inner[key].expression if key in inner else literal(value)
               for key, value in _arguments(call)}
    arguments = [text if isinstance(key, int) else f"{key}={text}"
                 for key, text in written.items()]
    expression = f"{callee(call)}({', '.join(arguments)})"
    imports = frozenset().union(*(built.imports for built in inner.values()))
    definitions = tuple(d for built in inner.values() for d in built.definitions)
    if call.target.startswith(_PORTABLE):
        needed, portable_imports = excerpt.needed(expression)
        return Construction(expression, imports | frozenset(portable_imports),
                            definitions + tuple(needed))
    if call.module_path == "torch.nn":
        return Construction(expression, imports | {"from torch import nn"}, definitions)
    return Construction(expression, imports | {f"import {call.module_path}"}, definitions)


def _arguments(call: ModuleCall) -> list[tuple[int | str, Any]]:
    """The call's arguments keyed by position (positional) or name (keyword)."""
    return [*enumerate(call.args), *call.kwargs.items()]


def callee(call: ModuleCall) -> str:
    """How the file names the call's target: `nn.Conv2d`, a portable function's bare name,
    or the dotted path of anything else in torch or torchvision."""
    if call.target.startswith(_PORTABLE):
        return call.name
    if call.module_path == "torch.nn":
        return f"nn.{call.name}"
    if call.module_path.split(".")[0] in ("torch", "torchvision"):
        return call.target
    raise DesignError(f"{call.target} is not part of torch or torchvision, so the exported "
                      "file could not create it")


def literal(value: Any) -> str:
    """`repr` of a plain value; anything else would not read back as the same value."""
    if isinstance(value, (tuple, list)):
        for item in value:
            literal(item)
    elif not isinstance(value, _PLAIN_TYPES):
        raise DesignError(f"cannot write an argument of type {type(value).__name__} as code")
    return repr(value)
