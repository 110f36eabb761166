"""One place that shows samples, whatever produced them: the data preview, the pictures a run
sends each epoch (GAN samples from fixed noise, autoencoder reconstructions, sequence
predictions, generated text) and the Predict tab's results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtGui import QColor, QFontDatabase
from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from designer.training.pictures import (
    RIGHT,
    WRONG,
    ImageGrid,
    PointSet,
    ScatterView,
    SeriesView,
    as_images,
    labelled_sets,
)
from engine.on_first_use import ModuleOnFirstUse

if TYPE_CHECKING:
    import numpy as np
else:   # the window's first paint does not wait for numpy (engine.on_first_use)
    np = ModuleOnFirstUse("numpy")

GREY = QColor("#8d8d96")
ACCENT = QColor("#e15759")
GRID_LIMIT = 64


class SampleView(QWidget):
    """A caption over one picture (grid, scatter, sequences or text), plus a latent scatter
    beside autoencoder reconstructions when the run sends one."""

    def __init__(self, empty_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = QLabel(self)
        self.caption.setWordWrap(True)
        self.grid = ImageGrid(empty_text)
        self.scatter = ScatterView(empty_text)
        self.series = SeriesView(empty_text)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.stack = QStackedWidget(self)
        for page in (self.grid, self.scatter, self.series, self.text):
            self.stack.addWidget(page)
        self.latent = ScatterView("")
        self.split = QSplitter(self)
        self.split.addWidget(self.stack)
        self.split.addWidget(self.latent)
        self.split.setChildrenCollapsible(False)
        self.latent.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        layout.addWidget(self.split, 1)
        self.clear()

    def clear(self) -> None:
        self.caption.setText("")
        self.grid.clear()
        self.latent.hide()
        self.stack.setCurrentWidget(self.grid)

    # ------------------------------------------------------------------ pages
    def _images(self, images: np.ndarray, captions: Sequence[str] = (),
                colours: Sequence[QColor | None] = (), columns: int | None = None,
                row_titles: Sequence[str] = ()) -> None:
        self.grid.set_images(images[:GRID_LIMIT], captions, colours, columns, row_titles)
        self.stack.setCurrentWidget(self.grid)

    def _points(self, sets: list[PointSet], title: str = "") -> None:
        self.scatter.set_points(sets, title)
        self.stack.setCurrentWidget(self.scatter)

    def _series(self, inputs, targets=None, outputs=None, captions: Sequence[str] = ()) -> None:
        self.series.set_series(inputs, targets, outputs, captions)
        self.stack.setCurrentWidget(self.series)

    def _text(self, text: str) -> None:
        self.text.setPlainText(text)
        self.stack.setCurrentWidget(self.text)

    def _pairs(self, inputs: np.ndarray, outputs: np.ndarray, form: str) -> None:
        """Inputs above their reconstructions."""
        if form == "points":
            self._points([PointSet(inputs, GREY, "input"), PointSet(outputs, ACCENT, "output")])
            return
        count = min(len(inputs), len(outputs), 8)
        if form == "series":
            self._series(inputs[:count], None, outputs[:count])
            return
        self._images(np.concatenate([inputs[:count], outputs[:count]]), columns=count,
                     row_titles=("input", "output"))

    def _generated(self, real: np.ndarray | None, generated: np.ndarray, form: str) -> None:
        """A generator's samples: 2-D points beside real ones, or pictures."""
        if form == "points":
            self._points([PointSet(real, GREY, "real", 3),
                          PointSet(generated, ACCENT, "generated", 3)])
        else:
            self._images(generated)

    # ------------------------------------------------------------------ what to show
    def show_run_samples(self, event, labels: list[str] | None = None) -> None:
        """A `samples` event of a run."""
        self.latent.hide()
        epoch = f"epoch {event.epoch}"
        if event.form == "text":
            self.caption.setText(f"Text the model writes after a validation window, {epoch}")
            self._text(event.text or "")
        elif event.form == "series":
            self.caption.setText(f"Validation windows with the true and predicted next "
                                 f"values, {epoch}")
            self._series(event.inputs, event.targets, event.outputs)
        elif event.generated is not None:
            self.caption.setText(f"Generated from fixed noise, {epoch}")
            self._generated(event.real, event.generated, event.form)
        elif event.inputs is not None and event.outputs is not None:
            self.caption.setText(f"Validation inputs and their reconstructions, {epoch}")
            self._pairs(event.inputs, event.outputs, event.form)
            if event.latent is not None:
                self.latent.set_points(labelled_sets(event.latent, event.latent_labels,
                                                     labels), "latent space")
                self.latent.show()
                width = max(self.split.width(), 300)
                self.split.setSizes([width * 3 // 5, width * 2 // 5])

    def show_data(self, inputs: np.ndarray | None, targets: np.ndarray | None,
                  labels: list[str] | None, caption: str) -> None:
        """A few samples of the data with their targets (the data preview)."""
        self.latent.hide()
        self.caption.setText(caption)
        if inputs is None or not len(inputs):
            self.clear()
            return
        classes = targets is not None and np.issubdtype(np.asarray(targets).dtype, np.integer)
        names = [_label(t, labels) for t in np.asarray(targets).reshape(len(targets), -1)[:, -1]] \
            if classes else []
        if inputs.ndim == 2 and inputs.shape[1] == 2:
            self._points(labelled_sets(inputs, targets if classes else None, labels, 4))
        elif inputs.ndim == 3 and not np.issubdtype(inputs.dtype, np.integer):
            self._series(inputs, None if classes else targets)
        elif inputs.ndim == 4:
            self._images(inputs.astype(np.float32), names)
        else:
            self._strips(inputs.reshape(len(inputs), -1).astype(np.float32), names)

    def _strips(self, vectors: np.ndarray, names: Sequence[str]) -> None:
        """Vectors as rows of a heat map, each named at its left (or as square pictures
        when they are flattened images)."""
        if as_images(vectors).shape[2] > 1:
            self._images(vectors, names)
            return
        count = min(len(vectors), 16)
        self._images(vectors[:count], columns=1, row_titles=list(names[:count]) or
                     [str(i + 1) for i in range(count)])

    def show_prediction(self, prediction) -> None:
        """An engine.prediction.Prediction."""
        self.latent.hide()
        p = prediction
        if p.task == "gan":
            self.caption.setText(f"The generator's samples from {p.source}")
            self._generated(p.inputs, p.outputs, p.form)
            return
        if p.task == "autoencoder":
            self.caption.setText(f"Reconstructions of {p.source}")
            self._pairs(p.inputs, p.outputs, p.form)
            return
        if p.predicted is not None:
            self._classes(p)
            return
        self.caption.setText(f"Predictions on {p.source}")
        if p.form == "series":
            self._series(p.inputs, p.targets, p.outputs)
        else:
            captions = [_values(o) for o in p.outputs]
            if p.targets is not None:
                captions = [f"{c} (true {_values(t)})" for c, t in zip(captions, p.targets)]
            self._images(p.inputs.astype(np.float32), captions)

    def _classes(self, p) -> None:
        """Class predictions: each sample with its predicted (and true) label, right in
        green, wrong in red."""
        predicted = p.predicted.reshape(len(p.predicted), -1)[:, -1]
        targets = None if p.targets is None else np.asarray(p.targets).reshape(
            len(p.targets), -1)[:, -1]
        confidence = p.confidence.reshape(len(p.confidence), -1)[:, -1]
        captions, colours = [], []
        for index, (guess, sure) in enumerate(zip(predicted, confidence)):
            text = f"{_label(guess, p.labels)} {sure:.0%}"
            colour = None
            if targets is not None:
                right = guess == targets[index]
                colour = RIGHT if right else WRONG
                text += "" if right else f" (true {_label(targets[index], p.labels)})"
            captions.append(text)
            colours.append(colour)
        right = "" if targets is None else \
            f": {np.mean(predicted == targets):.0%} right"
        self.caption.setText(f"Predictions on {len(predicted)} {p.source}{right}")
        if p.form == "points":
            self._points(labelled_sets(p.inputs, predicted, p.labels, 4), "predicted classes")
        elif p.form == "series" and not np.issubdtype(p.inputs.dtype, np.integer):
            self._series(p.inputs, None, None, captions)
        else:
            self._images(p.inputs.astype(np.float32), captions, colours)


def _label(value, labels: list[str] | None) -> str:
    index = int(value)
    return labels[index] if labels and 0 <= index < len(labels) else str(index)


def _values(values) -> str:
    flat = np.atleast_1d(np.asarray(values, dtype=np.float64)).reshape(-1)
    shown = ", ".join(f"{v:.3g}" for v in flat[:3])
    return shown + (", \u2026" if len(flat) > 3 else "")
