"""Typed editors for layer parameters, chosen from the catalogue's Param schema.

Each editor shows one value and emits `edited(value)` as soon as the user changes it, or
`invalid(reason)` when what was typed cannot be read as a value; it never edits the design.
"""

from __future__ import annotations

import math
import re
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from engine.layers import Param

INT_LIMIT = 2_147_483_647  # QSpinBox holds a C int
MIN_BOX_WIDTH = 56


class ParamEditor(QWidget):
    """Base of all editors: one parameter's value in, candidate values out."""

    edited = Signal(object)
    invalid = Signal(str)

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = param
        self.setToolTip(param.help)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)

    def set_value(self, value: Any) -> None:
        """Show a value without emitting `edited`."""
        raise NotImplementedError

    def value(self) -> Any:
        raise NotImplementedError


def _int_range(param: Param) -> tuple[int, int]:
    low = -INT_LIMIT if param.minimum is None else max(-INT_LIMIT, math.ceil(param.minimum))
    high = INT_LIMIT if param.maximum is None else min(INT_LIMIT, math.floor(param.maximum))
    return low, high


def _int_spin_box(param: Param, parent: QWidget) -> QSpinBox:
    box = QSpinBox(parent)
    box.setRange(*_int_range(param))
    box.setAccelerated(True)
    box.setMinimumWidth(MIN_BOX_WIDTH)  # the hint fits 10 digits; panels are narrower
    return box


class IntEditor(ParamEditor):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.spin = _int_spin_box(param, self)
        self.spin.valueChanged.connect(self.edited.emit)
        self._layout.addWidget(self.spin)

    def set_value(self, value: Any) -> None:
        self.spin.blockSignals(True)
        self.spin.setValue(int(value))
        self.spin.blockSignals(False)

    def value(self) -> int:
        return self.spin.value()


class ScientificSpinBox(QDoubleSpinBox):
    """A double spin box that shows 1e-05 as 1e-05 and steps by the value's own magnitude."""

    _PARTIAL = re.compile(r"^[+-]?(\d+\.?\d*|\.\d*)?([eE][+-]?\d*)?$")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(15)

    def textFromValue(self, value: float) -> str:
        return f"{value:.8g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        try:
            number = float(text)
        except ValueError:
            state = (QValidator.State.Intermediate if self._PARTIAL.match(text)
                     else QValidator.State.Invalid)
            return state, text, pos
        if math.isfinite(number) and self.minimum() <= number <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def fixup(self, text: str) -> str:
        return self.textFromValue(self.value())

    def stepBy(self, steps: int) -> None:
        value = self.value()
        step = 10 ** math.floor(math.log10(abs(value))) if value else 0.1
        self.setValue(value + steps * step)


class FloatEditor(ParamEditor):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.spin = ScientificSpinBox(self)
        self.spin.setMinimumWidth(MIN_BOX_WIDTH)
        self.spin.setRange(-1e300 if param.minimum is None else param.minimum,
                           1e300 if param.maximum is None else param.maximum)
        self.spin.valueChanged.connect(self.edited.emit)
        self._layout.addWidget(self.spin)

    def set_value(self, value: Any) -> None:
        self.spin.blockSignals(True)
        self.spin.setValue(float(value))
        self.spin.blockSignals(False)

    def value(self) -> float:
        return self.spin.value()


class BoolEditor(ParamEditor):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.check = QCheckBox(self)
        self.check.toggled.connect(self.edited.emit)
        self._layout.addWidget(self.check)

    def set_value(self, value: Any) -> None:
        self.check.blockSignals(True)
        self.check.setChecked(bool(value))
        self.check.blockSignals(False)

    def value(self) -> bool:
        return self.check.isChecked()


class ChoiceEditor(ParamEditor):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.combo = QComboBox(self)
        self.combo.addItems(list(param.choices))
        self.combo.currentTextChanged.connect(self.edited.emit)
        self._layout.addWidget(self.combo)

    def set_value(self, value: Any) -> None:
        self.combo.blockSignals(True)
        self.combo.setCurrentText(str(value))
        self.combo.blockSignals(False)

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
            values = parse_ints(text, self.param.name)
        except ValueError as err:
            self.invalid.emit(str(err))
            return
        self.edited.emit(values[0] if self.param.kind == "size" and len(values) == 1 else values)

    def set_value(self, value: Any) -> None:
        try:
            shown = parse_ints(self.line.text(), self.param.name)
        except ValueError:
            shown = None
        wanted = value if isinstance(value, tuple) else (value,)
        if shown != wanted:
            self.line.setText(format_ints(value))

    def value(self) -> tuple[int, ...]:
        return parse_ints(self.line.text(), self.param.name)


class SizeEditor(ParamEditor):
    """torch's int-or-tuple convention: one box per dimension; equal values store one int."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.spins = [_int_spin_box(param, self) for _ in range(param.length or 1)]
        for spin in self.spins:
            spin.valueChanged.connect(self._on_change)
            self._layout.addWidget(spin)

    def _on_change(self, _value: int) -> None:
        self.edited.emit(self.value())

    def set_value(self, value: Any) -> None:
        values = value if isinstance(value, tuple) else (value,) * len(self.spins)
        for spin, number in zip(self.spins, values):
            spin.blockSignals(True)
            spin.setValue(int(number))
            spin.blockSignals(False)

    def value(self) -> int | tuple[int, ...]:
        values = tuple(spin.value() for spin in self.spins)
        return values[0] if len(set(values)) == 1 else values


class TextEditor(ParamEditor):
    """A text such as a file's path: applied when typing ends (Enter or leaving the box), so
    the design is not re-checked on every keystroke; Browse picks a file."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.line = QLineEdit(self)
        self.line.setPlaceholderText("none")
        self.line.setClearButtonEnabled(True)
        self.line.editingFinished.connect(self._on_finished)
        self.browse = QPushButton("Browse…", self)
        self.browse.setToolTip(f"choose a file for {param.name}")
        self.browse.clicked.connect(self._on_browse)
        self._layout.addWidget(self.line, 1)
        self._layout.addWidget(self.browse)
        self._applied = ""

    def _on_finished(self) -> None:
        if self.line.text() != self._applied:
            self._applied = self.line.text()
            self.edited.emit(self._applied)

    def _on_browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, f"Choose {self.param.name}",
                                              self.line.text())
        if path:
            self.line.setText(path)
            self._on_finished()

    def set_value(self, value: Any) -> None:
        self._applied = str(value)
        self.line.setText(self._applied)

    def value(self) -> str:
        return self.line.text()


class OptionalEditor(ParamEditor):
    """A "None" check box in front of another editor, for parameters that accept None."""

    def __init__(self, param: Param, inner: ParamEditor, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.inner = inner
        self.none = QCheckBox("None", self)
        self.none.setToolTip(f"Leave '{param.name}' unset (None): the layer uses its default")
        self.none.toggled.connect(self._on_none)
        inner.edited.connect(self.edited.emit)
        inner.invalid.connect(self.invalid.emit)
        self._layout.addWidget(self.none)
        self._layout.addWidget(inner, 1)

    def _on_none(self, checked: bool) -> None:
        self.inner.setEnabled(not checked)
        try:
            self.edited.emit(self.value())
        except ValueError as err:
            self.invalid.emit(str(err))

    def set_value(self, value: Any) -> None:
        self.none.blockSignals(True)
        self.none.setChecked(value is None)
        self.none.blockSignals(False)
        self.inner.setEnabled(value is not None)
        if value is not None:
            self.inner.set_value(value)

    def value(self) -> Any:
        return None if self.none.isChecked() else self.inner.value()


_EDITORS = {"int": IntEditor, "float": FloatEditor, "bool": BoolEditor, "choice": ChoiceEditor,
            "ints": IntsEditor, "text": TextEditor}


def editor_for(param: Param, parent: QWidget | None = None) -> ParamEditor:
    """The editor that fits the parameter's kind, wrapped with a None box when optional."""
    if param.kind == "size":
        cls = SizeEditor if param.length else IntsEditor
    else:
        try:
            cls = _EDITORS[param.kind]
        except KeyError:
            raise ValueError(f"no editor for parameter kind {param.kind!r} "
                             f"('{param.name}')") from None
    editor = cls(param)
    if param.optional:
        return OptionalEditor(param, editor, parent)
    editor.setParent(parent)
    return editor
