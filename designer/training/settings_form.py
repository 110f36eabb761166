"""The design's training settings as a form, built from the engine's settings schema.

Every setting of `engine.training.settings.schema()` gets the typed editor its Param asks for; fields that do not apply
(options of another data source, optimizer or schedule) are hidden. An edit is checked by the
engine's own rules first, then pushed as an undoable command on the document's stack; undo and
redo come back through the design's `TrainingChanged` event.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
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
from engine.fields import Param
from engine.training.labels import SECTIONS, SettingError, setting_section
from engine.training.settings import problems_in, schema

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
LEARNING_RATE = "optimizer.lr"   # gets a button that finds a good value
MACHINE_PATHS = ("processes", "device")   # checked against this machine's devices too


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
    findLearningRate = Signal()   # the learning rate's Find button was pressed

    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.fields = schema()
        self._devices: list[tuple[str, str]] | None = None   # this machine's, once known
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
        for path, param in self.fields.items():
            form = forms[setting_section(path)]
            editor = self._editor(path, param)
            editor.edited.connect(lambda value, path=path: self.apply(path, value))
            editor.invalid.connect(self._show_problem)
            label = QLabel(param.title)
            label.setToolTip(param.help)
            field = self._with_finder(editor) if path == LEARNING_RATE else editor
            form.addRow(label, field)
            self.editors[path] = editor
            self.rows[path] = (form, field)
        name_widgets(body)
        self.setWidget(body)
        document.designChanged.connect(self._on_design_event)
        self.refresh()

    def _editor(self, path: str, param: Param) -> ParamEditor:
        if path == "device":
            return DeviceEditor(param, self)
        browse = (lambda _editor, current, path=path: self._browse(path, current)) \
            if path in FILE_PATHS else None
        editor = editor_for(param, self, browse)
        if isinstance(editor, OptionalEditor):
            editor.none.setText("default")
            editor.none.setToolTip("Leave unset: the engine works out a value (see the hint)")
        return editor

    def _with_finder(self, editor: ParamEditor) -> QWidget:
        """The learning rate's editor with a Find button beside it."""
        row = QWidget(self)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(editor, 1)
        self.find_button = QToolButton(row)
        self.find_button.setText("Find…")
        self.find_button.setToolTip("Find a learning rate for this design: a short range test "
                                    "plots the loss against the rate and suggests one")
        self.find_button.clicked.connect(self.findLearningRate)
        layout.addWidget(self.find_button)
        return row

    def _browse(self, path: str, current: str) -> str | None:
        source = self.value("data.source")
        if source in FOLDER_PATHS.get(path, ()):
            chosen = QFileDialog.getExistingDirectory(self, "Choose the image folder", current)
        else:
            title = f"Choose {self.fields[path].title.lower()}"
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
        command = SetTrainingValue(self.document.design, path, value, self.fields[path].title)
        trial = dict(self.document.design.training)
        trial[command.top] = command.new
        problems = [message for where, message in problems_in(trial) if where == f".{path}"]
        if problems:
            self.editors[path].refuse(f"{self.fields[path].title}: {problems[0]}")
            return False
        problem = self._machine_problem(trial) if path in MACHINE_PATHS else None
        if problem:
            self.editors[path].refuse(problem)
            return False
        self._show_problem("")
        self.document.push(command)
        return True

    def _show_problem(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.problem.emit(text)

    def _machine_problem(self, training: dict[str, Any]) -> str | None:
        """What keeps these settings' processes from training on this machine (more than
        its GPUs, or MPS), once the helper has listed its devices; None until then."""
        from engine.training.distributed import launch_for_setting

        if self._devices is None:
            return None
        processes = setting_value(training, "processes", self.fields["processes"].default)
        device = setting_value(training, "device", self.fields["device"].default)
        if device == "auto":   # the best device there is, as the worker will pick it
            device = self._devices[0][0].partition(":")[0] if self._devices else "cpu"
        gpus = sum(name.startswith("cuda:") for name, _ in self._devices)
        try:
            launch_for_setting(processes, device, gpus)
        except SettingError as err:
            return str(err)
        return None

    def set_devices(self, devices: list[tuple[str, str]]) -> None:
        """This machine's devices, best first (the helper lists them): the device editor
        offers them, and the Processes setting is checked against them."""
        self._devices = devices
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
        param = self.fields[path]
        if param.sources and self.value("data.source") not in param.sources:
            return False
        rule = APPLIES.get(path)
        return rule is None or self.value(rule[0]) in rule[1]
