"""The theme owns the severity colours: no other module of the designer writes one of them as
a literal, so a change of palette is one edit."""

from __future__ import annotations

from pathlib import Path

from designer import theme

DESIGNER = Path(theme.__file__).resolve().parent


def test_severity_colours_are_written_only_in_the_theme():
    colours = {*theme.SEVERITY_COLOURS.values(), *theme.SEVERITY_TINTS.values(),
               *(c for table in theme.CANVAS_SEVERITY.values() for c in table.values())}
    found = [f"{path.relative_to(DESIGNER)}: {colour}"
             for path in DESIGNER.rglob("*.py") if path.name != "theme.py"
             for colour in colours if colour.lower() in path.read_text(encoding="utf-8").lower()]
    assert found == []


def test_rich_text_in_a_severity_colour():
    assert theme.coloured("<b>no</b>") == (
        f"<span style='color:{theme.SEVERITY_COLOURS['error']}'><b>no</b></span>")
