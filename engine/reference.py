"""The reference of every layer parameter and training setting, written from their declarations.

The same `Param` that checks a file and builds the inspector writes this page, so the docs
cannot fall behind the code (docs/reference.md is this text; a test keeps it current).
"""

from __future__ import annotations

from engine.fields import Param
from engine.layers import categories
from engine.training.settings import schema

_HEADER = ("# NeuralCanvas reference\n\nEvery layer and every training setting, with the values "
           "each field accepts. Written by `neuralcanvas reference` from the declarations the "
           "app checks designs with.\n")


def reference_text() -> str:
    """The whole reference as Markdown."""
    parts = [_HEADER, "## Layers\n"]
    for category, specs in categories().items():
        parts.append(f"### {category}\n")
        for spec in specs:
            parts.append(f"#### {spec.name}\n\n{spec.explanation}\n")
            if spec.params:
                parts.append(_table("parameter", [(p.name, p) for p in spec.params]))
    parts.append("## Training settings\n")
    parts.append(_table("setting", list(schema().items())))
    return "\n".join(parts)


def _table(what: str, fields: list[tuple[str, Param]]) -> str:
    rows = [f"| {what} | kind | default | accepts | what it does |", "|---|---|---|---|---|"]
    rows += [f"| `{name}` | {field.kind} | {_cell(_default(field))} | {_cell(field.accepts())} | "
             f"{_cell(field.help)} |" for name, field in fields]
    return "\n".join(rows) + "\n"


def _default(field: Param) -> str:
    value = field.to_json(field.default)
    return "empty" if value is None else f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
