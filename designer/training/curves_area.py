"""The Curves tab: loss, task metric, learning rate, gradient norms and the task's picture
(confusion matrix or samples), for the live run and any stored runs laid over it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from designer.training.buffers import SmoothedSeries
from designer.training.confusion_view import ConfusionView
from designer.training.live import COUNT_METRICS, LiveRun
from designer.training.plots import CurvePlot, CurveStyle, GradientStrip
from designer.training.samples_view import SampleView

NAMES = {"loss": "train loss", "val_loss": "validation loss", "d_loss": "D loss",
         "g_loss": "G loss", "d_real": "D(x)", "d_fake": "D(G(z))",
         "val_accuracy": "validation accuracy", "val_mse": "validation MSE",
         "val_mae": "validation MAE", "val_relative_mse": "validation MSE / mean image",
         "d_accuracy": "D accuracy", "diversity": "diversity", "near_mode": "near a mode",
         "modes_covered": "modes covered"}
COLOURS = {"loss": "#4e79a7", "val_loss": "#f28e2b", "d_loss": "#e15759", "g_loss": "#4e79a7",
           "d_real": "#59a14f", "d_fake": "#b07aa1", "val_accuracy": "#59a14f",
           "val_mse": "#59a14f", "val_mae": "#76b7b2", "val_relative_mse": "#59a14f",
           "d_accuracy": "#f28e2b", "diversity": "#76b7b2", "near_mode": "#edc948"}
OTHER_COLOURS = ("#9c755f", "#ff9da7", "#bab0ac", "#76b7b2", "#edc948")
RUN_COLOURS = ("#7f7f7f", "#17becf", "#bcbd22", "#8c564b", "#e377c2", "#9467bd")
METRIC_TITLES = {"classification": "Accuracy", "regression": "Validation error",
                 "sequence": "Validation error", "autoencoder": "Reconstruction error",
                 "gan": "D(x), D(G(z)), D accuracy, diversity"}


def is_loss(name: str) -> bool:
    return name.endswith("loss")


def nice(name: str) -> str:
    return NAMES.get(name, name.replace("_", " "))


def colour_of(name: str) -> str:
    return COLOURS.get(name, OTHER_COLOURS[sum(map(ord, name)) % len(OTHER_COLOURS)])


@dataclass
class StoredCurves:
    """A stored run's curves, to lay over the live ones."""

    key: str
    name: str
    batches_per_epoch: int
    steps: dict[str, SmoothedSeries] = field(default_factory=dict)
    epochs: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def from_arrays(cls, key: str, name: str, batches_per_epoch: int,
                    steps: dict[str, tuple[np.ndarray, np.ndarray]],
                    metrics: dict[str, np.ndarray]) -> StoredCurves:
        smoothed = {}
        for curve, (x, y) in steps.items():
            if curve != "lr":
                smoothed[curve] = SmoothedSeries(max(16, len(x)))
                smoothed[curve].extend(x, y)
        epochs = {}
        if "epoch" in metrics:
            for column, values in metrics.items():
                if column not in ("epoch", "lr") and column not in COUNT_METRICS:
                    kept = np.isfinite(values)
                    epochs[column] = (metrics["epoch"][kept], values[kept])
        return cls(key, name, max(1, batches_per_epoch), smoothed, epochs)


ALL_PARTS = frozenset({"steps", "epochs", "lr", "gradients", "confusion", "samples"})
NO_RUN_TEXT = "Pictures of the run (confusion matrix, samples) appear here"
NO_PICTURES_TEXT = "This task has no pictures to show"


class CurvesArea(QWidget):
    """Draws a LiveRun (only the parts that changed) and stored runs over it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.unit = QComboBox(self)
        self.unit.addItems(["steps", "epochs"])
        self.unit.setToolTip("Show the curves against training steps or epochs")
        self.log_scale = QCheckBox("Log scale", self)
        self.log_scale.setToolTip("Show the loss on a logarithmic scale")
        self.counts = QLabel(self)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 0, 4, 0)
        bar.addWidget(QLabel("x axis:", self))
        bar.addWidget(self.unit)
        bar.addWidget(self.log_scale)
        bar.addStretch(1)
        bar.addWidget(self.counts)

        self.loss_plot = CurvePlot("Loss")
        self.metric_plot = CurvePlot("Metric")
        self.lr_plot = CurvePlot("Learning rate")
        self.gradients = GradientStrip()
        self.confusion = ConfusionView()
        self.samples = SampleView("Samples appear after the first epoch")
        self.hint = QLabel(NO_RUN_TEXT, alignment=Qt.AlignmentFlag.AlignCenter)
        self.task_view = QStackedWidget(self)
        for page in (self.hint, self.confusion, self.samples):
            self.task_view.addWidget(page)

        left = QSplitter(Qt.Orientation.Vertical)
        top, bottom = QSplitter(), QSplitter()
        top.addWidget(self.loss_plot)
        top.addWidget(self.metric_plot)
        bottom.addWidget(self.lr_plot)
        bottom.addWidget(self.gradients)
        left.addWidget(top)
        left.addWidget(bottom)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 2)
        self.splitter = QSplitter(self)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.task_view)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([720, 300])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)

        self.live: LiveRun | None = None
        self.stored: list[StoredCurves] = []
        self.planned_task = ""
        self.flagged: set[str] = set()
        self._titled: set[str] = set()
        self._drawn: dict[object, int] = {}
        self.unit.currentTextChanged.connect(lambda _unit: self.redraw_all())
        self.log_scale.toggled.connect(self._set_log)
        self._set_labels()

    # ------------------------------------------------------------------ inputs
    def set_live(self, live: LiveRun) -> None:
        self.live = live
        self.redraw_all()

    def set_stored(self, stored: list[StoredCurves]) -> None:
        self.stored = stored
        self.redraw_all()

    def set_planned_task(self, task: str) -> None:
        """The open design's task: it titles the metric plot until a run is shown."""
        self.planned_task = task
        if not self._shows_a_run():
            self._title_metric_plot_for(task)

    def _shows_a_run(self) -> bool:
        return bool(self.stored) or (self.live is not None and self.live.started is not None)

    def set_flagged_layers(self, names: set[str]) -> None:
        self.flagged = set(names)
        self.redraw({"gradients"})

    def _set_log(self, log: bool) -> None:
        self.loss_plot.set_log(log)
        QTimer.singleShot(0, self.loss_plot.place_legend)   # once the new range is laid out

    @property
    def in_epochs(self) -> bool:
        return self.unit.currentText() == "epochs"

    def _set_labels(self) -> None:
        label = "epoch" if self.in_epochs else "step"
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            plot.set_x_label(label)

    # ------------------------------------------------------------------ drawing
    def redraw_all(self, parts: set[str] | None = None) -> None:
        """Draw everything again (a new run, other overlays, another x unit), or only `parts`
        of it when the rest follows in later redraws."""
        self._drawn.clear()
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            plot.clear_curves()
        self._clear_run_views()
        self._set_labels()
        if not self._shows_a_run():
            self._show_empty_plots()
        self._set_horizon()
        self._redraw({"started"} | (parts if parts is not None else ALL_PARTS))

    def _clear_run_views(self) -> None:
        """Empty the views a run fills at its epochs' ends (gradient strip, confusion,
        samples, counts): a new run, or another design, starts from nothing."""
        self.gradients.set_history([], [], np.zeros((0, 0)), self.flagged)
        self.confusion.set_matrix(None, None)
        self.samples.clear()
        self.counts.setText("")
        self.hint.setText(NO_RUN_TEXT)
        self.task_view.setCurrentWidget(self.hint)

    def _show_empty_plots(self) -> None:
        """No run to show (another design, or none trained yet): the plots keep nothing of
        the last one, neither its axis ranges nor the title of what its task measured."""
        self._titled = set()
        self._title_metric_plot_for(self.planned_task)
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            plot.enableAutoRange()

    def _set_horizon(self) -> None:
        """Fix the x axes to the whole planned run (and the longest overlaid run): curves fill
        from left to right, and the axes are not laid out again at every redraw."""
        ends = [float(max(s.x[-1] for s in stored.steps.values()) / stored.batches_per_epoch)
                for stored in self.stored if stored.steps]
        ends += [float(x[-1]) for stored in self.stored for x, _y in stored.epochs.values()
                 if len(x)]
        live = self.live
        if live is not None and live.started is not None:
            ends.append(float(live.progress.epochs or live.started.epochs))
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            if ends:
                horizon = max(ends) * (1 if self.in_epochs else self._steps_per_epoch())
                plot.setXRange(0, horizon, padding=0.01)
            else:
                plot.enableAutoRange(axis="x")

    def _steps_per_epoch(self) -> int:
        live = self.live
        if live is not None and live.started is not None:
            return live.batches_per_epoch
        return max((stored.batches_per_epoch for stored in self.stored), default=1)

    def redraw(self, changed: set[str]) -> None:
        """Update the plots fed by the parts of the run that changed."""
        if "started" in changed:
            self.redraw_all(changed)
        else:
            self._redraw(changed)

    def _redraw(self, changed: set[str]) -> None:
        live = self.live
        if live is not None and live.started is not None:
            if "started" in changed or ("epochs" in changed and len(live.epochs) and
                                        self._titled != set(live.epochs)):
                self._title_metric_plot(live)
            if changed & {"steps", "epochs"}:
                self._draw_run(live.steps, {n: (s.x, s.y) for n, s in live.epochs.items()},
                               live.batches_per_epoch, "live", "", dashed=False,
                               parts=changed & {"steps", "epochs"})
                self._show_counts(live)
            if "lr" in changed and len(live.lr):
                self._draw(self.lr_plot, ("live", "lr"), self._steps_x(live.lr.x,
                           live.batches_per_epoch), live.lr.y, CurveStyle("#4e79a7", 1.0, step=True),
                           None, len(live.lr))
                # From zero, so a constant rate is a flat line and a decay reads as one.
                self.lr_plot.setYRange(0, float(live.lr.y.max()) * 1.08 or 1.0, padding=0)
            if "gradients" in changed:
                history = live.gradients
                self.gradients.set_history([layer["name"] for layer in history.layers],
                                           history.epochs, history.matrix(), self.flagged)
            if changed & {"confusion", "samples", "started"}:
                self._show_task_picture(live)
        if changed & {"started", "steps", "epochs"}:
            for index, stored in enumerate(self.stored):
                self._draw_run(stored.steps, stored.epochs, stored.batches_per_epoch,
                               stored.key, f"{stored.name}: ", dashed=True,
                               colour=RUN_COLOURS[index % len(RUN_COLOURS)])
        if changed & {"started", "epochs", "final"}:   # legends move rarely, not every step
            for plot in (self.loss_plot, self.metric_plot):
                plot.place_legend()

    def _title_metric_plot(self, live: LiveRun) -> None:
        """Name the metric plot after what it shows."""
        self._titled = set(live.epochs)
        rising = any("accuracy" in name for name in live.epochs) and live.task != "gan"
        self._title_metric_plot_for("classification" if rising else live.task)

    def _title_metric_plot_for(self, task: str) -> None:
        self.metric_plot.getPlotItem().setTitle(METRIC_TITLES.get(task, "Metric"), size="9pt")

    def _draw_run(self, steps: dict[str, SmoothedSeries],
                  epochs: dict[str, tuple[np.ndarray, np.ndarray]], per_epoch: int, key: str,
                  prefix: str, dashed: bool, colour: str | None = None,
                  parts: set[str] = frozenset({"steps", "epochs"})) -> None:
        """Draw a run's per-step curves and its per-epoch ones (as `parts` asks)."""
        for name, series in steps.items() if "steps" in parts else ():
            plot = self.loss_plot if is_loss(name) else self.metric_plot
            x = self._steps_x(series.x, per_epoch)
            tint = colour or colour_of(name)
            if not dashed:
                self._draw(plot, (key, name, "raw"), x, series.y,
                           CurveStyle(tint, 1.0, faint=True), None, len(series))
            # One-pixel pens for per-step curves: a wider pen takes Qt's slow path and
            # doubles the cost of every repaint (benchmarks/gui_responsiveness.py, curves).
            self._draw(plot, (key, name), x, series.smooth.y,
                       CurveStyle(tint, 1.0, dashed=dashed), prefix + nice(name), len(series))
        for name, (x, y) in epochs.items() if "epochs" in parts else ():
            if name in steps:  # an epoch mean of a per-step curve adds nothing
                continue
            plot = self.loss_plot if is_loss(name) else self.metric_plot
            xs = x if self.in_epochs else x * per_epoch
            self._draw(plot, (key, name), xs, y,
                       CurveStyle(colour or colour_of(name), 2.0, dashed=dashed, symbol="o"),
                       prefix + nice(name), len(y))

    def _draw(self, plot: CurvePlot, key: object, x: np.ndarray, y: np.ndarray,
              style: CurveStyle, name: str | None, length: int) -> None:
        if self._drawn.get(key) == length:
            return
        self._drawn[key] = length
        plot.set_curve(key, np.asarray(x, dtype=np.float64), y, style, name)

    def _steps_x(self, x: np.ndarray, per_epoch: int) -> np.ndarray:
        return x / per_epoch if self.in_epochs else x

    def _show_counts(self, live: LiveRun) -> None:
        parts = [f"{nice(name)}: {value:g}" for name, value in live.counts.items()]
        self.counts.setText("   ".join(parts))

    def _show_task_picture(self, live: LiveRun) -> None:
        labels = live.started.data.get("labels") if live.started else None
        if live.samples is not None:
            self.samples.show_run_samples(live.samples, labels)
            self.task_view.setCurrentWidget(self.samples)
        elif live.confusion is not None or live.task == "classification":
            self.confusion.set_matrix(live.confusion, live.labels or labels,
                                      live.validated_epoch)
            self.task_view.setCurrentWidget(self.confusion)
        elif live.task in ("gan", "autoencoder", "sequence"):
            self.samples.clear()
            self.task_view.setCurrentWidget(self.samples)
        else:
            self.hint.setText(NO_PICTURES_TEXT)
            self.task_view.setCurrentWidget(self.hint)
