"""The project's import graph read from the sources with ast (nothing is imported): every
import statement counts, at module level, inside functions and under TYPE_CHECKING alike, since
each one is a dependency a reader has to follow."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "designer", "templates")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    return {module_name(p): p for package in PACKAGES for p in (ROOT / package).rglob("*.py")}


@cache
def imported_names(path: Path) -> frozenset[str]:
    """The dotted names one file imports: `import a.b` gives a.b; `from a import b` gives a.b
    (a submodule or a name in a, which the caller resolves) and a; relative imports resolved.
    Kept per file: the contracts read each file once for every module that reaches it."""
    own = module_name(path).split(".")
    package = own if path.name == "__init__.py" else own[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            origin = ".".join(base + ([node.module] if node.module else []))
            names.add(origin)
            names.update(f"{origin}.{alias.name}" for alias in node.names)
    return frozenset(names)


def import_graph(modules: dict[str, Path] | None = None) -> dict[str, set[str]]:
    """Module -> the project modules it imports (names that are not modules are dropped)."""
    modules = project_modules() if modules is None else modules
    return {name: {n for n in imported_names(path) if n in modules and n != name}
            for name, path in modules.items()}


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every project module importing `start` loads, through any chain of imports."""
    seen, todo = set(), [start]
    while todo:
        for child in graph.get(todo.pop(), ()):
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


def cycles(graph: dict[str, set[str]], within: Iterable[str]) -> list[list[str]]:
    """The import circles among `within` (each as a path that returns to its start)."""
    members = set(within)
    found: list[list[str]] = []
    for start in sorted(members):
        todo = [(start, [start])]
        while todo:
            node, path = todo.pop()
            for child in sorted(graph.get(node, set()) & members):
                if child == start:
                    found.append(path + [start])
                elif child not in path and child > start:   # each circle once, from its least
                    todo.append((child, path + [child]))
    return found
