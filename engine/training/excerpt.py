"""Picking the portable functions a script needs, with the imports they use.

`engine.training.portable` is ordinary Python that the in-app trainer imports. For an exported
script we copy, as source text, only the definitions its code refers to (and what those refer
to, transitively), in a fixed order, plus the import lines that bind the names they use.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import importlib.util
import pkgutil
from dataclasses import dataclass
from functools import cache
from importlib.machinery import ModuleSpec
from typing import Any

from engine.training import portable

# Import lines for names the rendered code uses directly (the portable modules add theirs).
EXTRA_IMPORTS = {
    "argparse": "import argparse",
    "csv": "import csv",
    "math": "import math",
    "Path": "from pathlib import Path",
    "DataLoader": "from torch.utils.data import DataLoader",
    "DistributedSampler": "from torch.utils.data.distributed import DistributedSampler",
    "save_file": "from safetensors.torch import save_file",
}
_STDLIB = {"argparse", "copy", "csv", "errno", "gzip", "math", "os", "pathlib", "stat", "struct",
           "sys", "zipfile", "zlib"}


@dataclass(frozen=True)
class Definition:
    """One top-level function, class or constant of a portable module."""

    name: str
    module: str
    source: str
    uses: frozenset[str]
    order: int


@cache
def definitions() -> dict[str, Definition]:
    """Every portable definition by name (names are unique across the portable modules)."""
    found: dict[str, Definition] = {}
    for index, module in enumerate(_modules()):
        text = _source(module)
        tree = ast.parse(text)
        lines = text.splitlines()
        for position, node in enumerate(tree.body):
            if isinstance(node, (ast.Import, ast.ImportFrom)) or _is_docstring(node):
                continue
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            source = "\n".join(lines[first - 1:node.end_lineno])
            for name in _bound_names(node):
                if name in found:
                    raise RuntimeError(f"portable name {name!r} is defined twice")
                found[name] = Definition(name, module.name, source,
                                         frozenset(_used_names(node)), index * 1000 + position)
    return found


@cache
def import_lines() -> dict[str, str]:
    """Name -> the import line that binds it, from the portable modules and EXTRA_IMPORTS."""
    lines = dict(EXTRA_IMPORTS)
    for module in _modules():
        for node in ast.parse(_source(module)).body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    line = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                    lines[bound] = line
            elif isinstance(node, ast.ImportFrom) and not node.level:
                for alias in node.names:
                    bound = alias.asname or alias.name
                    suffix = f" as {alias.asname}" if alias.asname else ""
                    lines[bound] = f"from {node.module} import {alias.name}{suffix}"
    return lines


def functions() -> dict[str, Any]:
    """Name -> the live portable object, for running a plan's calls in the app."""
    return {name: portable_function(name) for name in definitions()}


def portable_function(name: str) -> Any:
    """The live portable object called `name` (importing its module imports torch)."""
    return getattr(importlib.import_module(definitions()[name].module), name)


def needed(code: str) -> tuple[list[str], list[str]]:
    """For code that calls portable functions: (their definitions' source, import lines)."""
    table = definitions()
    chosen: set[str] = set()
    pending = [n for n in _used_names(ast.parse(code)) if n in table]
    while pending:
        name = pending.pop()
        if name in chosen:
            continue
        chosen.add(name)
        pending += [n for n in table[name].uses if n in table and n not in chosen]
    sources = []
    for definition in sorted({table[n] for n in chosen}, key=lambda d: d.order):
        if definition.source not in sources:
            sources.append(definition.source)
    used = set(_used_names(ast.parse(code)))
    for name in chosen:
        used |= table[name].uses
    known = import_lines()
    imports = sorted({known[n] for n in used if n in known}, key=_import_order)
    return sources, imports


def _import_order(line: str) -> tuple[int, bool, str]:
    """isort's order: standard library, then third party; `import x` before `from x`."""
    module = line.split()[1].split(".")[0]
    return (0 if module in _STDLIB else 1, line.startswith("from"), line.split()[1])


def _modules() -> list[ModuleSpec]:
    """The portable modules, found without running them (they import torch)."""
    return [importlib.util.find_spec(f"{portable.__name__}.{info.name}")
            for info in sorted(pkgutil.iter_modules(portable.__path__), key=lambda i: i.name)]


def _source(module: ModuleSpec) -> str:
    with open(module.origin, encoding="utf-8") as stream:
        return stream.read()


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)


def _bound_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    raise RuntimeError(f"unexpected top-level statement in portable code: {ast.dump(node)}")


def _used_names(tree: ast.AST) -> set[str]:
    """Names read anywhere in the tree (attribute chains count by their first name)."""
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
            and isinstance(n.ctx, ast.Load)} - set(dir(builtins))


def import_block(lines: list[str]) -> str:
    """Import lines as isort (ruff's I001) arranges them: standard library, a blank line,
    third-party; `from x import a` and `from x import b` merged into one line."""
    merged: dict[str, set[str]] = {}
    plain: set[str] = set()
    for line in lines:
        if line.startswith("from "):
            module, _, names = line[5:].partition(" import ")
            merged.setdefault(module, set()).update(n.strip() for n in names.split(","))
        else:
            plain.add(line)
    every = plain | {f"from {module} import {', '.join(sorted(names, key=_member_order))}"
                     for module, names in merged.items()}
    groups: dict[int, list[str]] = {}
    for line in sorted(every, key=_import_order):
        groups.setdefault(_import_order(line)[0], []).append(line)
    return "\n\n".join("\n".join(group) for _, group in sorted(groups.items()))


def _member_order(name: str) -> tuple[int, str]:
    """isort's order of imported names: CONSTANTS, then Classes, then functions."""
    if name.isupper() and len(name) > 1:
        return (0, name)
    return (1 if name[:1].isupper() else 2, name.lower())
