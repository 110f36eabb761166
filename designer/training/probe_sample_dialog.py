"""Choosing what the activation probes show: a sample of the design's training data (by its
number) or a file, and the weights: the initial ones a run starts from, or a finished run's."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from designer.training.predict_view import FILE_FILTER
from designer.training.probe_controller import INITIAL, Weights
from designer.widgets import cancel_and_action, error_line, push_button
from engine.runs import RunRecord

MOST_SAMPLES = 10_000_000


class ProbeSampleDialog(QDialog):
    """OK calls `chosen(sample, weights)`; a missing file is said under its field."""

    def __init__(self, sample: int | str, weights: Weights, runs: list[RunRecord],
                 chosen: Callable[[int | str, Weights], None], count: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Activation Sample")
        self._chosen = chosen
        self.by_index = QRadioButton("Training sample", self)
        self.by_file = QRadioButton("File", self)
        group = QButtonGroup(self)
        group.addButton(self.by_index)
        group.addButton(self.by_file)
        self.index = QSpinBox(self)
        self.index.setRange(0, (count - 1) if count else MOST_SAMPLES)
        self.index.setToolTip("The sample's number in the design's training data"
                              + (f" (0 to {count - 1})" if count else ""))
        self.file = QLineEdit(self)
        self.file.setPlaceholderText("an image, or a .npy, .npz or .csv file of samples")
        browse = push_button(self, "Browse\u2026", "Choose a file", self._browse)
        self.weights = QComboBox(self)
        self.weights.addItem(f"{INITIAL.capitalize()} (before training)", None)
        for record in reversed(runs):
            if record.finished and record.has_weights:
                self.weights.addItem(f"Run {record.name}", str(record.folder))
        self.weights.setCurrentIndex(max(0, self.weights.findData(weights.path)))
        self.error = error_line(self)
        if isinstance(sample, str):
            self.by_file.setChecked(True)
            self.file.setText(sample)
        else:
            self.by_index.setChecked(True)
            self.index.setValue(sample)
        self.index.valueChanged.connect(lambda _value: self.by_index.setChecked(True))
        self.file.textEdited.connect(lambda _text: self.by_file.setChecked(True))
        form = QFormLayout()
        form.addRow(self.by_index, self.index)
        row = QHBoxLayout()
        row.addWidget(self.file, 1)
        row.addWidget(browse)
        form.addRow(self.by_file, row)
        form.addRow("Weights", self.weights)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        buttons, show = cancel_and_action(self, "Show", self.accept)
        show.setDefault(True)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        chosen, _filter = QFileDialog.getOpenFileName(self, "Activation sample", self.file.text(),
                                                      FILE_FILTER)
        if chosen:
            self.file.setText(chosen)
            self.by_file.setChecked(True)

    def accept(self) -> None:
        sample: int | str = self.index.value()
        if self.by_file.isChecked():
            path = Path(self.file.text().strip()).expanduser()
            if not path.is_file():
                self.error.setText(f"There is no file {path}; choose an existing file."
                                   if self.file.text().strip() else "Choose a file.")
                self.error.show()
                return
            sample = str(path)
        name = self.weights.currentText().removeprefix("Run ")
        path = self.weights.currentData()
        self._chosen(sample, Weights(path, name) if path else Weights())
        super().accept()
