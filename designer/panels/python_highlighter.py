"""A small Python syntax highlighter for the code view, coloured for light or dark palettes."""

from __future__ import annotations

import builtins
import keyword
import re

from PySide6.QtGui import (
    QColor,
    QFont,
    QPalette,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
)

# (light, dark) colours per token kind.
COLOURS = {
    "keyword": ("#8b008b", "#d19ad9"),
    "builtin": ("#1a5fb4", "#7fb2f0"),
    "string": ("#2a7d2e", "#98c379"),
    "comment": ("#6e7781", "#8b949e"),
    "number": ("#b35900", "#e5a663"),
    "definition": ("#0b5394", "#61afef"),
    "decorator": ("#8a6d00", "#e5c07b"),
    "self": ("#a0306d", "#e06c9f"),
}

_RULES = [
    ("keyword", re.compile(r"\b(?:" + "|".join(keyword.kwlist) + r")\b")),
    ("builtin", re.compile(r"\b(?:" + "|".join(
        name for name in dir(builtins) if not name.startswith("_")) + r")\b")),
    ("self", re.compile(r"\bself\b")),
    ("number", re.compile(r"\b\d+(?:\.\d*)?(?:[eE][+-]?\d+)?\b")),
    ("decorator", re.compile(r"^\s*@[\w.]+")),
    ("definition", re.compile(r"(?<=\bdef )\w+|(?<=\bclass )\w+")),
    ("string", re.compile(r"[rbfu]*(?:\"[^\"\\]*(?:\\.[^\"\\]*)*\"|'[^'\\]*(?:\\.[^'\\]*)*')")),
    ("comment", re.compile(r"#.*$")),
]
_TRIPLE = re.compile(r'"""|\'\'\'')
IN_DOCSTRING = 1


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Base).lightness() < 128


class PythonHighlighter(QSyntaxHighlighter):
    """Keywords, builtins, strings, comments, numbers and docstrings; later rules win."""

    def __init__(self, document: QTextDocument, dark: bool = False) -> None:
        super().__init__(document)
        self.formats: dict[str, QTextCharFormat] = {}
        self.set_dark(dark)

    def set_dark(self, dark: bool) -> None:
        self.formats = {}
        for kind, (light_colour, dark_colour) in COLOURS.items():
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(dark_colour if dark else light_colour))
            if kind in ("keyword", "definition"):
                fmt.setFontWeight(QFont.Weight.Bold)
            if kind == "comment":
                fmt.setFontItalic(True)
            self.formats[kind] = fmt
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        for kind, pattern in _RULES:
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), self.formats[kind])
        self._highlight_docstrings(text)

    def _highlight_docstrings(self, text: str) -> None:
        """Triple-quoted strings may span lines: the block state says whether one is open."""
        inside = self.previousBlockState() == IN_DOCSTRING
        start = 0 if inside else None
        for match in _TRIPLE.finditer(text):
            if start is None:
                start = match.start()
            else:
                self.setFormat(start, match.end() - start, self.formats["string"])
                start = None
        if start is not None:
            self.setFormat(start, len(text) - start, self.formats["string"])
        self.setCurrentBlockState(IN_DOCSTRING if start is not None else 0)
