"""The call that creates a layer's module, declared as data (as Keras's `get_config` is).

A layer says which callable makes its module and with which arguments. A worker builds the
module by making the call (`ModuleCall.build`); the exporter writes the same call as source
(`engine.codegen.constructors`). Knowing the call needs no torch, so the editor can show the
code without importing it, and the app and the exported file cannot build different modules.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ModuleCall:
    """`target(*args, **kwargs)`, where `target` is the dotted path of a class or function
    ("torch.nn.Conv2d", "engine.training.portable.backbones.pretrained_backbone") and the
    arguments are plain values (numbers, strings, booleans, None, tuples, lists) or calls
    made first (`nn.Parameter(torch.zeros(1, 1, 768))`).

    `defaults` are the target's own defaults for keyword arguments this call leaves out
    (see `module_call`); tests compare them with the target's signature."""

    target: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def module_path(self) -> str:
        """The module that defines the target ("torch.nn" for "torch.nn.Conv2d")."""
        return self.target.rpartition(".")[0]

    @property
    def name(self) -> str:
        """The target's own name ("Conv2d")."""
        return self.target.rpartition(".")[2]

    def build(self) -> Any:
        """Make the call (imports the target's module, torch for most layers)."""
        function = getattr(importlib.import_module(self.module_path), self.name)
        return function(*(_made(value) for value in self.args),
                        **{key: _made(value) for key, value in self.kwargs.items()})


def _made(value: Any) -> Any:
    return value.build() if isinstance(value, ModuleCall) else value


def module_call(target: str, *args: Any, defaults: Mapping[str, Any] | None = None,
                **kwargs: Any) -> ModuleCall:
    """`target(*args, **kwargs)` less the keyword arguments that equal the target's own
    `defaults` (same type and value), so the exported call reads as a person writes it."""
    defaults = dict(defaults or {})
    kept = {key: value for key, value in kwargs.items()
            if not (key in defaults and _same(value, defaults[key]))}
    return ModuleCall(target, args, kept, defaults)


def same_size(value: Any) -> Any:
    """A size whose entries are all equal, as the single number torch expands to all of
    them ((3, 3) -> 3); for classes that store every size as a tuple (convolutions)."""
    if isinstance(value, tuple) and value and len(set(value)) == 1:
        return value[0]
    return value


def _same(value: Any, default: Any) -> bool:
    return type(value) is type(default) and value == default
