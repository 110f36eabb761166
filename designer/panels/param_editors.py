"""Typed editors for layer parameters and training settings, chosen from their Param (engine.fields).

Each editor shows one value and emits `edited(value)` when the user has given a new one, or
`invalid(reason)` (and frames itself in red) when what was typed cannot be that value; it never
edits the design. Numbers are typed into `NumberField`s and read when editing ends.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from designer.panels.number_field import NumberField, range_text
from designer.theme import SEVERITY_COLOURS
from engine.blocks.definitions import Expr
from engine.blocks.expressions import ExpressionError, parse
from engine.layers import Param

MIN_BOX_WIDTH = 56
REFUSED_STYLE = (f"QLineEdit, QComboBox {{ border: 2px solid {SEVERITY_COLOURS['error']}; "
                 "border-radius: 3px; }")


class ParamEditor(QWidget):
    """Base of all editors: one parameter's value in, candidate values out.

    A refused value (by the editor, or by whoever applies it, through `refuse`) frames the
    editor in red until a value is accepted or shown.
    """

    edited = Signal(object)
    invalid = Signal(str)

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = param
        self.setToolTip(param.help)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self._refused = False
        self.edited.connect(lambda _value: self._mark_refused(False))  # before any consumer

    @property
    def refused(self) -> bool:
        """Is the editor showing a refused value (red frame)?"""
        return self._refused

    def refuse(self, message: str) -> None:
        """Frame the editor in red and report why its value was not taken."""
        self._mark_refused(True)
        self.invalid.emit(message)

    def _mark_refused(self, refused: bool) -> None:
        if refused != self._refused:
            self._refused = refused
            self.setStyleSheet(REFUSED_STYLE if refused else "")

    def set_value(self, value: Any) -> None:
        """Show a value (clearing any refusal) without emitting `edited`."""
        self._mark_refused(False)
        self.show_value(value)

    def show_value(self, value: Any) -> None:
        raise NotImplementedError

    def value(self) -> Any:
        raise NotImplementedError


def _number_field(param: Param, kind: str, parent: QWidget) -> NumberField:
    low = param.minimum if param.minimum is not None else param.above  # the engine refuses =above
    field = NumberField(kind, param.title, low, param.maximum, parent)
    field.setMinimumWidth(MIN_BOX_WIDTH)
    return field


class NumberEditor(ParamEditor):
    """A whole number ("int") or a real one ("float"), typed as people write it."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.field = _number_field(param, param.kind, self)
        self.field.committed.connect(self.edited.emit)
        self.field.invalid.connect(self.refuse)
        allowed = range_text(param.minimum, param.maximum)
        if allowed:
            self.setToolTip(f"{param.help} ({allowed})" if param.help else allowed)
        self._layout.addWidget(self.field)

    def show_value(self, value: Any) -> None:
        self.field.set_value(value)

    def value(self) -> int | float:
        return self.field.value()


class BoolEditor(ParamEditor):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.check = QCheckBox(self)
        self.check.toggled.connect(self.edited.emit)
        self._layout.addWidget(self.check)

    def show_value(self, value: Any) -> None:
        with QSignalBlocker(self.check):  # showing a value is not an edit
            self.check.setChecked(bool(value))

    def value(self) -> bool:
        return self.check.isChecked()


class ChoiceEditor(ParamEditor):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.combo = QComboBox(self)
        self.combo.addItems(list(param.choices))
        self.combo.currentTextChanged.connect(self.edited.emit)
        self._layout.addWidget(self.combo)

    def show_value(self, value: Any) -> None:
        with QSignalBlocker(self.combo):  # showing a value is not an edit
            self.combo.setCurrentText(str(value))

    def value(self) -> str:
        return self.combo.currentText()


def parse_ints(text: str, name: str) -> tuple[int, ...]:
    """Read "1, 28, 28" (commas or spaces, optional brackets) as a tuple of ints."""
    parts = [p for p in re.split(r"[\s,]+", text.strip().strip("()[]").strip()) if p]
    if not parts:
        raise ValueError(f"'{name}' needs at least one whole number, e.g. 1, 28, 28")
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        bad = next(p for p in parts if not re.fullmatch(r"[+-]?\d+", p))
        raise ValueError(f"'{name}': {bad!r} is not a whole number") from None


def format_ints(values: tuple[int, ...] | int) -> str:
    return ", ".join(str(v) for v in values) if isinstance(values, tuple) else str(values)


class IntsEditor(ParamEditor):
    """A list of whole numbers of any length (shapes), typed as "1, 28, 28"."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.line = QLineEdit(self)
        self.line.setPlaceholderText("e.g. 1, 28, 28")
        self.line.textEdited.connect(self._on_text)
        self._layout.addWidget(self.line)

    def _on_text(self, text: str) -> None:
        try:
            values = parse_ints(text, self.param.title)
        except ValueError as err:
            self.refuse(str(err))
            return
        self.edited.emit(values[0] if self.param.kind == "size" and len(values) == 1 else values)

    def show_value(self, value: Any) -> None:
        try:
            shown = parse_ints(self.line.text(), self.param.title)
        except ValueError:
            shown = None
        wanted = value if isinstance(value, tuple) else (value,)
        if shown != wanted:
            self.line.setText(format_ints(value))

    def value(self) -> tuple[int, ...]:
        return parse_ints(self.line.text(), self.param.title)


class SizeEditor(ParamEditor):
    """torch's int-or-tuple convention: one box per dimension; equal values store one int."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.fields = [_number_field(param, "int", self) for _ in range(param.length or 1)]
        for field in self.fields:
            field.committed.connect(lambda _value: self.edited.emit(self.value()))
            field.invalid.connect(self.refuse)
            self._layout.addWidget(field)

    def show_value(self, value: Any) -> None:
        values = value if isinstance(value, tuple) else (value,) * len(self.fields)
        for field, number in zip(self.fields, values):
            field.set_value(number)

    def value(self) -> int | tuple[int, ...]:
        values = tuple(field.value() for field in self.fields)
        return values[0] if len(set(values)) == 1 else values


Browse = Callable[["ParamEditor", str], "str | None"]  # (editor, its text) -> the chosen path


class TextEditor(ParamEditor):
    """A text (a file's path, a column's name) or a list of texts typed as "a, b": applied when
    typing ends (Enter or leaving the box), so the design is not re-checked on every keystroke.
    An optional field left empty stores None; `browse` (when given) asks for a path."""

    def __init__(self, param: Param, browse: Browse | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.line = QLineEdit(self)
        self.line.setPlaceholderText("(default)" if param.optional else "none")
        self.line.setClearButtonEnabled(True)
        self.line.editingFinished.connect(self._on_finished)
        self._layout.addWidget(self.line, 1)
        self.browse: QPushButton | None = None
        if browse is not None:
            self.browse = QPushButton("Browse…", self)
            self.browse.setToolTip(f"choose a file for {param.title}")
            self.browse.clicked.connect(lambda: self._browsed(browse(self, self.line.text())))
            self._layout.addWidget(self.browse)
        self._applied = self.line.text()

    def _on_finished(self) -> None:
        if self.line.text() != self._applied:
            self._applied = self.line.text()
            self.edited.emit(self.value())

    def _browsed(self, chosen: str | None) -> None:
        if chosen:
            self.line.setText(chosen)
            self._on_finished()

    def show_value(self, value: Any) -> None:
        if isinstance(value, (list, tuple)):
            value = ", ".join(map(str, value))
        self._applied = "" if value is None else str(value)
        self.line.setText(self._applied)

    def value(self) -> Any:
        text = self.line.text()
        if self.param.kind == "texts":
            return tuple(part.strip() for part in text.split(",") if part.strip()) or None
        return text if text.strip() or not self.param.optional else None


def choose_file(editor: ParamEditor, current: str) -> str | None:
    """The usual Browse: the file the user picks for the editor's field, or None."""
    path, _ = QFileDialog.getOpenFileName(editor, f"Choose {editor.param.title}", current)
    return path or None


class OptionalEditor(ParamEditor):
    """A "None" check box in front of another editor, for parameters that accept None."""

    def __init__(self, param: Param, inner: ParamEditor, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.inner = inner
        self.none = QCheckBox("None", self)
        self.none.setToolTip(f"Leave '{param.title}' unset (None): the layer uses its default")
        self.none.toggled.connect(self._on_none)
        inner.edited.connect(self.edited.emit)
        inner.invalid.connect(self.invalid.emit)  # the inner editor frames itself
        self._layout.addWidget(self.none)
        self._layout.addWidget(inner, 1)

    def _on_none(self, checked: bool) -> None:
        self.inner.setEnabled(not checked)
        try:
            self.edited.emit(self.value())
        except ValueError as err:
            self.inner.refuse(str(err))

    def show_value(self, value: Any) -> None:
        with QSignalBlocker(self.none):
            self.none.setChecked(value is None)
        self.inner.setEnabled(value is not None)
        if value is not None:
            self.inner.set_value(value)

    def value(self) -> Any:
        return None if self.none.isChecked() else self.inner.value()


_EDITORS = {"int": NumberEditor, "float": NumberEditor, "bool": BoolEditor, "choice": ChoiceEditor,
            "ints": IntsEditor}


class ExpressionEditor(ParamEditor):
    """A parameter inside a block definition that each use works out from the block's
    arguments ("planes * 4"); a plain number typed here becomes that number again."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.line = QLineEdit(self)
        self.line.setPlaceholderText("e.g. planes * 4")
        self.line.setToolTip(f"{param.help}\nAn expression of the block's arguments: names, "
                             "whole numbers, + - * // and parentheses".strip())
        self.line.editingFinished.connect(self._on_done)
        self._layout.addWidget(QLabel("=", self))
        self._layout.addWidget(self.line)

    def _on_done(self) -> None:
        try:
            expression = parse(self.line.text())
        except ExpressionError as err:
            self.refuse(str(err))
            return
        self.edited.emit(expression.value({}) if not expression.names() else
                         Expr(expression.text))

    def show_value(self, value: Any) -> None:
        self.line.setText(value.text if isinstance(value, Expr) else str(value))

    def value(self) -> Expr:
        return Expr(self.line.text())


def editor_for(param: Param, parent: QWidget | None = None,
               browse: Browse | None = None) -> ParamEditor:
    """The editor that fits the field's kind, wrapped with a None box when optional (a text
    editor takes an empty box for None); text editors get `browse` for their button."""
    if param.kind in ("text", "texts"):
        return TextEditor(param, browse, parent)
    if param.kind == "size":
        cls = SizeEditor if param.length else IntsEditor
    else:
        cls = _EDITORS[param.kind]
    editor = cls(param)
    if param.optional:
        return OptionalEditor(param, editor, parent)
    editor.setParent(parent)
    return editor
