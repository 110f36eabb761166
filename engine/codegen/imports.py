"""One import block from several lists of import lines, sorted as ruff's isort rules sort it.

Sections in order: `__future__`, the standard library, everything else (third party); within a
section `import x` lines come before `from x import y` lines, each sorted by module, and the
names imported from one module are combined into one statement.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable

from engine.codegen.formatting import format_from_import


def import_block(lines: Iterable[str]) -> str:
    """The sorted, de-duplicated import statements, sections separated by a blank line."""
    straight: dict[int, set[str]] = {}
    from_names: dict[int, dict[str, set[str]]] = {}
    for line in lines:
        (statement,) = ast.parse(line).body
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                text = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                straight.setdefault(_section(alias.name), set()).add(text)
        elif isinstance(statement, ast.ImportFrom) and statement.level == 0 and statement.module:
            module = statement.module
            names = from_names.setdefault(_section(module), {}).setdefault(module, set())
            names.update(alias.name + (f" as {alias.asname}" if alias.asname else "")
                         for alias in statement.names)
        else:
            raise ValueError(f"not an absolute import: {line!r}")
    sections = []
    for section in sorted(set(straight) | set(from_names)):
        block = sorted(straight.get(section, ()), key=lambda text: _module_key(text.split()[1]))
        for module in sorted(from_names.get(section, {}), key=_module_key):
            names = sorted(from_names[section][module], key=_member_key)
            block.extend(format_from_import(module, names))
        sections.append("\n".join(block))
    return "\n\n".join(sections) + "\n"


def _section(module: str) -> int:
    top = module.split(".")[0]
    if top == "__future__":
        return 0
    return 1 if top in sys.stdlib_module_names else 2


def _module_key(module: str) -> tuple[str, str]:
    return (module.lower(), module)


def _member_key(name: str) -> tuple[int, str, str]:
    """Constants, then classes, then everything else (isort's order-by-type)."""
    bare = name.split(" as ")[0]
    if bare.isupper() and len(bare) > 1:
        kind = 0
    elif bare[:1].isupper():
        kind = 1
    else:
        kind = 2
    return (kind, bare.lower(), name)
