"""One editor for every typed number, whole or not: it accepts what people type and shows it
back as typed.

Why not QSpinBox/QDoubleSpinBox: they read the text on every keystroke, so each prefix of what
is being typed ("0", "0.", "0.0") became a value, the design echoed it (or refused it and put
the old value back) into the box under the cursor, and "0.01" typed over 0.003 ended as 1.003.
This field is a plain line edit: the text is read once, when editing ends (Enter or leaving
the field), and stays as typed; Up/Down step the value by its own magnitude.
"""

from __future__ import annotations

import math
import re

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QWidget

# What people write for a number: 12, -2, 0.01, .5, 5., 1e-4, 3E-3 (no "inf", "nan" or "1_000",
# which Python's float() would also take).
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
WHOLE = re.compile(r"[+-]?\d+")
STEP_FROM_ZERO = 0.1


def parse_number(text: str, kind: str, name: str) -> int | float:
    """Read typed text as an int (kind "int") or a finite float, or raise ValueError that
    names the field and quotes the text."""
    typed = text.strip()
    if not typed:
        raise ValueError(f"'{name}' needs a number")
    if not NUMBER.fullmatch(typed):
        hint = "; use a point for decimals, e.g. 0.01" if "," in typed else ", e.g. 0.01 or 1e-4"
        raise ValueError(f"'{name}': {typed!r} is not a number{hint}")
    if kind == "int":
        if WHOLE.fullmatch(typed):
            return int(typed)
        value = float(typed)
        if not (math.isfinite(value) and value.is_integer()):
            raise ValueError(f"'{name}' must be a whole number, not {typed!r}")
        return int(value)
    value = float(typed)
    if not math.isfinite(value):
        raise ValueError(f"'{name}': {typed!r} is too large")
    return value


def format_number(value: float) -> str:
    """The shortest text that reads back as the same number: 0.003, 1e-05, 100, 64."""
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    return text.removesuffix(".0")


def range_text(minimum: float | None, maximum: float | None) -> str:
    """The allowed range in words, e.g. "from 0 to 1", "at least 1", or "" when unbounded."""
    if minimum is not None and maximum is not None:
        return f"from {format_number(minimum)} to {format_number(maximum)}"
    if minimum is not None:
        return f"at least {format_number(minimum)}"
    if maximum is not None:
        return f"at most {format_number(maximum)}"
    return ""


def step_number(value: float, steps: int) -> float:
    """Step a float by one unit of its leading digit per step: 0.003 -> 0.004 up, 0.002 down;
    going down from a power of ten takes a tenth (0.001 -> 0.0009), so tiny values stay sane."""
    for _ in range(abs(steps)):
        if value == 0:
            unit = STEP_FROM_ZERO
        else:
            unit = 10.0 ** math.floor(math.log10(abs(value)) + 1e-12)
            toward_zero = (steps < 0) == (value > 0)
            if toward_zero and math.isclose(abs(value), unit):
                unit /= 10
        value = float(f"{value + math.copysign(unit, steps):.12g}")
    return value


class NumberField(QLineEdit):
    """A number typed as text and read when editing ends.

    `committed(value)` carries a number inside the range; `invalid(reason)` says why the text
    was refused (the text stays as typed so the user can correct it; Escape restores the last
    value). `value()` is the last committed or shown value.
    """

    committed = Signal(object)
    invalid = Signal(str)

    def __init__(self, kind: str, name: str, minimum: float | None = None,
                 maximum: float | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if kind not in ("int", "float"):
            raise ValueError(f"NumberField for '{name}' needs kind 'int' or 'float', not {kind!r}")
        self.kind, self.name = kind, name
        self.minimum, self.maximum = minimum, maximum
        self._value: int | float = 0 if kind == "int" else 0.0
        self.set_value(self._clamped(self._value))  # until a value is shown: the one nearest 0
        self.editingFinished.connect(self.commit)

    def value(self) -> int | float:
        return self._value

    def set_value(self, value: float) -> None:
        """Show a value without committing it; text that already reads as it is kept."""
        self._value = int(value) if self.kind == "int" else float(value)
        try:
            if parse_number(self.text(), self.kind, self.name) == self._value:
                return
        except ValueError:
            pass
        self.setText(format_number(self._value))

    def commit(self) -> None:
        """Read the text: emit `committed` with its number, or `invalid` with the reason."""
        try:
            value = parse_number(self.text(), self.kind, self.name)
        except ValueError as err:
            self.invalid.emit(str(err))
            return
        low = self.minimum is not None and value < self.minimum
        high = self.maximum is not None and value > self.maximum
        if low or high:
            self.invalid.emit(f"'{self.name}' must be {range_text(self.minimum, self.maximum)}, "
                              f"not {self.text().strip()}")
            return
        self._value = value
        self.committed.emit(value)

    def step(self, steps: int) -> None:
        """Step from the typed number (or the last value) and commit, kept inside the range."""
        try:
            start = parse_number(self.text(), self.kind, self.name)
        except ValueError:
            start = self._value
        value = start + steps if self.kind == "int" else step_number(float(start), steps)
        self.setText(format_number(self._clamped(value)))
        self.commit()

    def _clamped(self, value: float) -> int | float:
        """The nearest value inside the range (whole for an int field)."""
        if self.minimum is not None:
            value = max(value, self.minimum if self.kind == "float" else math.ceil(self.minimum))
        if self.maximum is not None:
            value = min(value, self.maximum if self.kind == "float" else math.floor(self.maximum))
        return int(value) if self.kind == "int" else float(value)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            self.step(1 if key == Qt.Key.Key_Up else -1)
        elif key == Qt.Key.Key_Escape and self.text() != format_number(self._value):
            self.setText(format_number(self._value))
            self.commit()
        else:
            super().keyPressEvent(event)
