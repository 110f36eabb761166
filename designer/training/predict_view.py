"""The Predict tab: a stored run's trained model on samples of its data, or on a file the user
picks; for an image classifier, the selected sample's saliency map beside them. The model runs
in the helper process, so the window never waits for torch."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from designer.theme import coloured
from designer.training import tasks
from designer.training.jobs import Jobs
from designer.training.predict_saliency import SaliencyPane
from designer.training.samples_view import SampleView
from designer.widgets import push_button
from engine.runs import RunRecord
from engine.saliency import Saliency, run_saliency, why_no_saliency

if TYPE_CHECKING:   # a prediction arrives from the helper process, numpy arrays and all
    from engine.prediction import Prediction

FILE_FILTER = ("Samples (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp *.npy *.npz "
               "*.csv);;All files (*)")
IDLE_TEXT = "Train a run, then try its model here."


class PredictView(QWidget):
    predicted = Signal(object)   # the Prediction shown

    def __init__(self, jobs: Jobs, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.ask_open_path: Callable[[], Path | None] = self._ask_open_path
        self.records: list[RunRecord] = []
        self.prediction: Prediction | None = None
        self.predicted_with: RunRecord | None = None   # the run whose model made `prediction`
        self.selected: int | None = None   # the sample whose saliency is shown or asked for
        self._asked = 0   # numbers the requests, so an answer for a forgotten one is dropped
        self.runs = QComboBox(self)
        self.runs.setMinimumContentsLength(18)
        self.runs.setToolTip("The run whose trained weights make the predictions")
        self.count = QSpinBox(self)
        self.count.setRange(1, 64)
        self.count.setValue(24)
        self.count.setToolTip("How many samples to predict")
        self.on_samples = push_button(self, "Predict on samples", "Run the model on the first "
                                      "validation samples of its data", self.predict_samples)
        self.on_file = push_button(self, "Predict on a file\u2026", "An image for image models, "
                                   "or a .npy, .npz or .csv file of samples",
                                   lambda: self.predict_file())
        self.status = QLabel(IDLE_TEXT, self)
        self.status.setWordWrap(True)
        self.result = SampleView("Predictions appear here")
        self.result.grid.tileClicked.connect(self.select_sample)
        self.saliency = SaliencyPane(self)
        self.saliency.hide()
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.result)
        split.addWidget(self.saliency)
        split.setChildrenCollapsible(False)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Weights of", self))
        bar.addWidget(self.runs, 1)
        bar.addWidget(self.count)
        bar.addWidget(self.on_samples)
        bar.addWidget(self.on_file)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        self._update_buttons()

    def set_runs(self, records: list[RunRecord], prefer: str | None = None) -> None:
        """Offer the runs that have weights, newest first; keep or pick `prefer`."""
        current = prefer or self.runs.currentData()
        self.records = [r for r in reversed(records) if r.finished and r.has_weights]
        self.runs.blockSignals(True)
        self.runs.clear()
        for record in self.records:
            self.runs.addItem(f"{record.name} ({record.created.replace('T', ' ')})", record.id)
        index = self.runs.findData(current)
        self.runs.setCurrentIndex(max(index, 0))
        self.runs.blockSignals(False)
        self._update_buttons()

    def clear(self) -> None:
        """Another design is open: forget its runs and what they predicted."""
        self._asked += 1
        self.prediction = self.predicted_with = self.selected = None
        self.set_runs([])
        self.result.clear()
        self.saliency.hide()
        self.status.setText(IDLE_TEXT)

    def choose(self, record: RunRecord) -> None:
        index = self.runs.findData(record.id)
        if index >= 0:
            self.runs.setCurrentIndex(index)

    def current(self) -> RunRecord | None:
        run_id = self.runs.currentData()
        return next((r for r in self.records if r.id == run_id), None)

    def _update_buttons(self) -> None:
        ready = bool(self.records)
        self.on_samples.setEnabled(ready)
        self.on_file.setEnabled(ready)

    # ------------------------------------------------------------------ predicting
    def predict_samples(self) -> None:
        record = self.current()
        if record is not None:
            self._submit(record, tasks.predict_on_samples, record, self.count.value())

    def predict_file(self, path: Path | None = None) -> None:
        record = self.current()
        path = path or self.ask_open_path()
        if record is not None and path is not None:
            self._submit(record, tasks.predict_on_file, record, str(path))

    def _submit(self, record: RunRecord, function, *args) -> None:
        self.status.setText(f"Running {record.name}'s model\u2026")
        self._asked += 1
        asked = self._asked
        self.jobs.submit("predict", function, *args,
                         done=lambda prediction: self._show(prediction, record, asked),
                         failed=lambda reason: self._failed(reason, asked))

    def _show(self, prediction: Prediction, record: RunRecord, asked: int) -> None:
        if asked != self._asked:
            return
        self.prediction, self.predicted_with, self.selected = prediction, record, None
        self.status.setText("")
        self.result.show_prediction(prediction)
        self.predicted.emit(prediction)
        self._offer_saliency(prediction)

    def _failed(self, reason: str, asked: int) -> None:
        if asked != self._asked:
            return
        self.status.setText(coloured(f"Cannot predict: {reason}"))

    # ------------------------------------------------------------------ saliency
    def _offer_saliency(self, prediction: Prediction) -> None:
        """Show the first sample's saliency for an image classifier, or why there is none."""
        reason = _why_no_saliency(prediction)
        self.saliency.show()
        if reason:
            self.saliency.show_reason(reason)
        elif len(prediction.inputs):
            self.select_sample(0)

    def select_sample(self, index: int) -> None:
        """Ask the helper for sample `index`'s saliency (image classifiers only); the newest
        request replaces one still waiting."""
        prediction, record = self.prediction, self.predicted_with
        if prediction is None or record is None or _why_no_saliency(prediction):
            return
        self.selected = index
        self.result.grid.select(index)
        self.saliency.waiting(f"sample {index + 1}'s prediction")
        self.jobs.submit("saliency", run_saliency, record, prediction.inputs[index],
                         done=lambda found: self._show_saliency(found, prediction, index),
                         failed=lambda reason: self._saliency_failed(reason, prediction, index))

    def _is_current(self, prediction: Prediction, index: int) -> bool:
        return prediction is self.prediction and index == self.selected

    def _show_saliency(self, found: Saliency, prediction: Prediction, index: int) -> None:
        if not self._is_current(prediction, index):
            return
        labels = prediction.labels or []
        name = labels[found.predicted] if found.predicted < len(labels) else str(found.predicted)
        self.saliency.show_map(prediction.inputs[index], found.pixels,
                               f"sample {index + 1}'s prediction \u201c{name}\u201d")

    def _saliency_failed(self, reason: str, prediction: Prediction, index: int) -> None:
        if self._is_current(prediction, index):
            self.saliency.show_reason(reason, error=True)

    def _ask_open_path(self) -> Path | None:
        chosen, _filter = QFileDialog.getOpenFileName(self, "Predict on a file", "",
                                                      FILE_FILTER)
        return Path(chosen) if chosen else None


def _why_no_saliency(prediction: Prediction) -> str | None:
    return why_no_saliency(prediction.predicted is not None, prediction.inputs.shape[1:],
                           prediction.outputs.shape[1:])
