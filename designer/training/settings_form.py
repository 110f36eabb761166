"""The design's training settings as a form, built from the engine's settings schema.

Every field of `engine.training.settings.schema()` gets a typed editor; fields that do not apply
(options of another data source, optimizer or schedule) are hidden. An edit is checked by the
engine's own rules first, then pushed as an undoable command on the document's stack; undo and
redo come back through the design's `TrainingChanged` event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from designer.accessibility import name_widgets
from designer.document import DesignDocument
from designer.panels.column_flow import ColumnFlowLayout
from designer.panels.param_editors import OptionalEditor, ParamEditor, editor_for
from designer.theme import ERROR_STYLE
from designer.training.setting_undo import SetTrainingValue, setting_value
from engine.events import DesignEvent, Reset, TrainingChanged
from engine.layers import Param
from engine.training.labels import SECTIONS, setting_label, setting_section
from engine.training.settings import FieldInfo, problems_in, schema

# Settings that matter only for some values of another setting (the schema's `sources` cover
# the data options).
APPLIES = {"optimizer.momentum": ("optimizer.name", ("sgd", "rmsprop")),
           "optimizer.nesterov": ("optimizer.name", ("sgd",)),
           "optimizer.beta1": ("optimizer.name", ("adam", "adamw")),
           "optimizer.beta2": ("optimizer.name", ("adam", "adamw")),
           "schedule.step_size": ("schedule.name", ("step",)),
           "schedule.gamma": ("schedule.name", ("step",)),
           "schedule.factor": ("schedule.name", ("plateau",)),
           "schedule.patience": ("schedule.name", ("plateau",)),
           "schedule.min_lr": ("schedule.name", ("cosine", "plateau")),
           "early_stopping.patience": ("early_stopping.enabled", (True,)),
           "early_stopping.min_delta": ("early_stopping.enabled", (True,)),
           "early_stopping.keep_best": ("early_stopping.enabled", (True,)),
           "diagnostics.collapse_below": ("task", ("gan",))}
SECTION_APPLIES = {"GAN": ("task", ("gan",))}
FOLDER_PATHS = {"data.path": ("image_folder",)}
FILE_PATHS = ("data.path", "data.images", "data.labels")


def label_of(info: FieldInfo) -> str:
    return setting_label(info.path)


def section_of(path: str) -> str:
    return setting_section(path)


class TextEditor(ParamEditor):
    """Free text (file paths, names, lists of column names), applied when editing ends;
    optional fields store nothing when left empty. Paths get a browse button."""

    def __init__(self, param: Param, info: FieldInfo, browse: Callable[[], str | None] | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.info = info
        self.line = QLineEdit(self)
        if info.optional:
            self.line.setPlaceholderText("(default)" if info.kind != "texts" else
                                         "all other columns")
        self.line.editingFinished.connect(self._commit)
        self._layout.addWidget(self.line, 1)
        if browse is not None:
            button = QToolButton(self)
            button.setText("\u2026")
            button.setToolTip("Choose on disk")
            button.clicked.connect(lambda: self._browsed(browse()))
            self._layout.addWidget(button)

    def _browsed(self, chosen: str | None) -> None:
        if chosen:
            self.line.setText(chosen)
            self._commit()

    def _commit(self) -> None:
        self.edited.emit(self.value())

    def show_value(self, value: Any) -> None:
        if isinstance(value, (list, tuple)):
            value = ", ".join(map(str, value))
        text = "" if value is None else str(value)
        if text != self.line.text():
            self.line.setText(text)

    def value(self) -> Any:
        text = self.line.text().strip()
        if self.info.kind == "texts":
            items = [part.strip() for part in text.split(",") if part.strip()]
            return items or None
        return text if text or not self.info.optional else None


class DeviceEditor(ParamEditor):
    """The device: auto or one this machine has (filled in once they are known), editable."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.combo = QComboBox(self)
        self.combo.setEditable(True)
        self.combo.addItem("auto")
        self.combo.lineEdit().editingFinished.connect(self._commit)
        self.combo.activated.connect(lambda _index: self._commit())
        self._layout.addWidget(self.combo, 1)

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        """(setting, description) pairs, e.g. ("cuda:0", "NVIDIA ..."), best first."""
        current = self.value()
        self.combo.blockSignals(True)
        self.combo.clear()
        best = devices[0][1] if devices else "the best device"
        self.combo.addItem("auto", f"auto: {best}")
        for name, description in devices:
            self.combo.addItem(name, description)
        for index in range(self.combo.count()):
            self.combo.setItemData(index, self.combo.itemData(index),
                                   Qt.ItemDataRole.ToolTipRole)
        self.combo.setCurrentText(current)
        self.combo.blockSignals(False)

    def _commit(self) -> None:
        self.edited.emit(self.value())

    def show_value(self, value: Any) -> None:
        self.combo.blockSignals(True)
        self.combo.setCurrentText(str(value))
        self.combo.blockSignals(False)

    def value(self) -> str:
        return self.combo.currentText().strip()


class SettingsForm(QScrollArea):
    """Grouped editors for every training setting of the open design."""

    problem = Signal(str)   # the engine's complaint about a value, or "" when all is well

    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.fields = {info.path: info for info in schema()}
        self.editors: dict[str, ParamEditor] = {}
        self.rows: dict[str, tuple[QFormLayout, QWidget]] = {}
        self.groups: dict[str, QGroupBox] = {}
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.hide()
        body = QWidget(self)
        outer = QVBoxLayout(body)   # the message spans the top; the groups flow below it
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addWidget(self.message)
        column = ColumnFlowLayout()   # the groups wrap into columns in a wide panel
        column.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(column)
        forms: dict[str, QFormLayout] = {}
        for title, _prefixes in SECTIONS:
            group = QGroupBox(title, body)
            forms[title] = QFormLayout(group)
            forms[title].setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            self.groups[title] = group
            column.addWidget(group)
        for info in self.fields.values():
            form = forms[section_of(info.path)]
            editor = self._editor(info)
            editor.edited.connect(lambda value, path=info.path: self.apply(path, value))
            editor.invalid.connect(self._show_problem)
            label = QLabel(label_of(info))
            label.setToolTip(info.help)
            form.addRow(label, editor)
            self.editors[info.path] = editor
            self.rows[info.path] = (form, editor)
        name_widgets(body)
        self.setWidget(body)
        document.designChanged.connect(self._on_design_event)
        self.refresh()

    def _editor(self, info: FieldInfo) -> ParamEditor:
        param = Param(label_of(info), info.kind, info.default, info.help, info.minimum, info.maximum, info.choices,
                      2 if info.kind == "ints" else None, info.optional)
        if info.path == "device":
            return DeviceEditor(param, self)
        if info.kind in ("text", "texts"):
            browse = (lambda path=info.path: self._browse(path)) if info.path in FILE_PATHS \
                else None
            return TextEditor(param, info, browse, self)
        editor = editor_for(param, self)
        if isinstance(editor, OptionalEditor):
            editor.none.setText("default")
            editor.none.setToolTip("Leave unset: the engine works out a value (see the hint)")
        return editor

    def _browse(self, path: str) -> str | None:
        source = self.value("data.source")
        current = str(self.value(path) or "")
        if source in FOLDER_PATHS.get(path, ()):
            chosen = QFileDialog.getExistingDirectory(self, "Choose the image folder", current)
        else:
            title = f"Choose {label_of(self.fields[path]).lower()}"
            chosen, _filter = QFileDialog.getOpenFileName(self, title, current)
        return chosen or None

    # ------------------------------------------------------------------ values
    def value(self, path: str) -> Any:
        return setting_value(self.document.design.training, path, self.fields[path].default)

    def apply(self, path: str, value: Any) -> bool:
        """Check a new value with the engine's rules and, if it is good, push the edit; a bad
        one stays in its editor, framed in red, with the engine's reason above the form."""
        if isinstance(value, tuple):
            value = list(value)
        if value == self.value(path):
            self._show_problem("")
            return True
        command = SetTrainingValue(self.document.design, path, value, label_of(self.fields[path]))
        trial = dict(self.document.design.training)
        trial[command.top] = command.new
        problems = [message for where, message in problems_in(trial) if where == f".{path}"]
        if problems:
            self.editors[path].refuse(f"{label_of(self.fields[path])}: {problems[0]}")
            return False
        self._show_problem("")
        self.document.push(command)
        return True

    def _show_problem(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.problem.emit(text)

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        editor = self.editors["device"]
        assert isinstance(editor, DeviceEditor)
        editor.set_devices(devices)

    # ------------------------------------------------------------------ following the design
    def _on_design_event(self, event: DesignEvent) -> None:
        if isinstance(event, TrainingChanged | Reset):
            self.refresh()

    def refresh(self) -> None:
        """Show the design's values and only the settings that apply to them."""
        for path, editor in self.editors.items():
            editor.set_value(self.value(path))
            form, widget = self.rows[path]
            form.setRowVisible(widget, self.applies(path))
        for title, group in self.groups.items():
            rule = SECTION_APPLIES.get(title)
            group.setVisible(rule is None or self.value(rule[0]) in rule[1])

    def applies(self, path: str) -> bool:
        info = self.fields[path]
        if info.sources and self.value("data.source") not in info.sources:
            return False
        rule = APPLIES.get(path)
        return rule is None or self.value(rule[0]) in rule[1]
