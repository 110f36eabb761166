"""Where a network's modules live: attributes of the network, or nested in containers.

A node called `layer1.0.conv1` has the module path "layer1.0.conv1". Both the compiler and the
exporter turn the paths into the same tree: a level whose keys are exactly 0..n-1 is an
`nn.ModuleList`, any other level an `nn.ModuleDict`, so state_dict keys read
`layer1.0.conv1.weight` in the app and in the exported file alike.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class ModuleTree:
    """One container level: key -> leaf (its dotted module path) or a nested container."""

    children: dict[str, ModuleTree | str] = field(default_factory=dict)

    @property
    def is_list(self) -> bool:
        return set(self.children) == {str(i) for i in range(len(self.children))}

    def items(self) -> list[tuple[str, ModuleTree | str]]:
        """Children in registration order: by index in a list, by first use in a dict."""
        if self.is_list:
            return sorted(self.children.items(), key=lambda item: int(item[0]))
        return list(self.children.items())

    def child_expression(self, owner: str, key: str) -> str:
        """Code that reaches child `key` of this container, itself reached by `owner`."""
        if self.is_list:
            return f"{owner}[{key}]"
        if is_attribute(key):
            return f"{owner}.{key}"
        return f'{owner}["{key}"]'  # keys hold [A-Za-z0-9_-] only (naming.module_key)

    def expression(self, path: str, owner: str = "self") -> str:
        """Code that reaches the module at `path` from the network, e.g. `self.layer1[0].conv1`.

        The network itself is not a container, so a top-level index key reads
        `getattr(self, "0")`.
        """
        first, *rest = path.split(".")
        if is_attribute(first):
            expression = f"{owner}.{first}"
        else:
            expression = f'getattr({owner}, "{first}")'
        level = self.children[first]
        for key in rest:
            assert isinstance(level, ModuleTree), path
            expression = level.child_expression(expression, key)
            level = level.children[key]
        return expression


def is_attribute(key: str) -> bool:
    """Whether a module key can be written as `.key` (else `["key"]` or getattr)."""
    return key.isidentifier() and not keyword.iskeyword(key)


def module_tree(paths: Iterable[str]) -> ModuleTree:
    """The container tree of dotted module paths (each path names one leaf module)."""
    root = ModuleTree()
    for path in paths:
        level = root
        *parents, leaf = path.split(".")
        for key in parents:
            child = level.children.setdefault(key, ModuleTree())
            assert isinstance(child, ModuleTree), f"{path!r} runs through a leaf (ModulePaths)"
            level = child
        level.children[leaf] = path
    return root
