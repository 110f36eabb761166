"""Undoable edits of the design's training settings, on the same stack as canvas edits."""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

from engine import Design

TRAINING_COMMAND_ID = 1101
_MISSING = object()


class SetTrainingValue(QUndoCommand):
    """Set one setting by its dotted path (e.g. "optimizer.lr"). Successive edits of the same
    setting merge into one step, as typing in a field should."""

    def __init__(self, design: Design, path: str, value: Any, label: str | None = None) -> None:
        super().__init__(f"Set {label or path} to {_shown(value)}")
        self.design, self.path, self.label = design, path, label or path
        self.top, *self.inner = path.split(".")
        self.old = (copy.deepcopy(design.training[self.top]) if self.top in design.training
                    else _MISSING)
        self.new = self._with_value(value)

    def _with_value(self, value: Any) -> Any:
        if not self.inner:
            return copy.deepcopy(value)
        section = copy.deepcopy(self.old) if isinstance(self.old, dict) else {}
        target = section
        for key in self.inner[:-1]:
            target = target.setdefault(key, {})
        target[self.inner[-1]] = copy.deepcopy(value)
        return section

    def id(self) -> int:
        return TRAINING_COMMAND_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetTrainingValue) or other.path != self.path:
            return False
        self.new = other.new
        self.setText(other.text())
        self.setObsolete(self.new == self.old)
        return True

    def redo(self) -> None:
        self.design.set_training(**{self.top: copy.deepcopy(self.new)})

    def undo(self) -> None:
        if self.old is _MISSING:
            self.design.unset_training(self.top)
        else:
            self.design.set_training(**{self.top: copy.deepcopy(self.old)})


def setting_value(training: dict[str, Any], path: str, default: Any) -> Any:
    """The value of a dotted path in `design.training`, or `default` where it is not set."""
    value: Any = training
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return default
        value = value[key]
    return value


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return "nothing" if value is None else str(value)
