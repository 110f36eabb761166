"""Why the selected layer's output has its shape: the layer's rule worked out with the user's
numbers (engine.shape_working), the line with a number that cannot be in the error colour, so
a shape error points at the setting to change."""

from __future__ import annotations

import html

from designer.theme import coloured
from engine import Design, Report
from engine.blocks.definitions import Expr
from engine.shape_working import Line, shape_working


def working_lines(design: Design, report: Report, node_id: str) -> list[Line]:
    """The working for the node as the last check saw its inputs; none for a value given by
    a block argument (its number is known only in each use)."""
    node = design.node(node_id)
    if any(isinstance(value, Expr) for value in node.params.values()):
        return []
    inputs = [info for info in report.input_infos.get(node_id, []) if info is not None]
    return shape_working(node.type, node.params, inputs)


def working_html(lines: list[Line]) -> str:
    """The lines as rich text under a heading, or "" when there are none."""
    if not lines:
        return ""
    shown = [coloured(f"\u2717 {html.escape(line.text)}") if line.wrong
             else html.escape(line.text) for line in lines]
    return "<b>Why this shape</b><br><code>" + "<br>".join(shown) + "</code>"
