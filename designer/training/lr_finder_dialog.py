"""Find learning rate: Smith's range test (engine.training.lr_finder) run in the training
worker, its loss drawn against the learning rate on a log scale with the suggestion marked;
Apply sets the design's learning rate to it as one undo step.

The test runs between runs (the worker takes one job at a time); closing the dialog leaves
the test to finish in the worker and drops its answer.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from designer.panels.busy_bar import busy_bar
from designer.theme import coloured
from designer.timers import make_timer
from designer.training.plots import themed
from engine.training.lr_finder import LrCurve, find_for_worker
from engine.training.worker import Call

POLL_MS = 100
RAW, SMOOTHED, SUGGESTED, CURRENT = "#b4bedc", "#2846a0", "#c83c28", "#3c8c50"

# Starts the range test in the worker: call(function, *arguments), as TrainingService.call.
Caller = Callable[..., Call]


class LrFinderDialog(QDialog):
    """Runs the test on open; `apply(rate)` pushes the new learning rate (True when it was
    taken)."""

    def __init__(self, design: dict, call: Caller, apply: Callable[[float], bool],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Find Learning Rate")
        self.resize(720, 520)
        self.curve: LrCurve | None = None
        self._apply = apply
        self._call: Call | None = None
        self.status = QLabel("Training a throwaway copy of the design while the learning rate "
                             "rises from 1e-7 to 10\u2026", self)
        self.status.setWordWrap(True)
        self.busy = busy_bar(self)
        self.plot = pg.PlotWidget(self)
        self.plot.setLogMode(x=True, y=False)
        self.plot.setLabel("bottom", "learning rate")
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)   # 1e-7 is read as it is
        self.plot.setLabel("left", "loss")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        themed(self.plot, self.palette())
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.apply_button = self.buttons.addButton("Apply", QDialogButtonBox.ButtonRole.ApplyRole)
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply_suggestion)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.busy)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.buttons)
        self._poll = make_timer(self, POLL_MS, self._check)
        self._start(design, call)

    def _start(self, design: dict, call: Caller) -> None:
        try:
            self._call = call(find_for_worker, design, {})
        except Exception as err:  # noqa: BLE001 - a refusal (a run is going) is shown, not raised
            self._failed(str(err))
            return
        self.busy.show()
        self._poll.start()

    def _check(self) -> None:
        reply = self._call.result(0.0) if self._call is not None else None
        if reply is None:
            return
        self._poll.stop()
        self.busy.hide()
        if reply.error:
            self._failed(reply.error)
        else:
            self.show_curve(reply.value)

    def _failed(self, reason: str) -> None:
        self.busy.hide()
        self.status.setText(coloured(f"The range test could not run: {reason}"))

    def show_curve(self, curve: LrCurve) -> None:
        """Draw the curve, mark the suggestion and the design's own rate, offer Apply."""
        self.curve = curve
        self.plot.clear()
        self.plot.addLegend(offset=(-10, 10))
        self.plot.plot(curve.learning_rates, curve.losses, pen=pg.mkPen(RAW, width=1),
                       name="loss of each step")
        self.plot.plot(curve.learning_rates[:len(curve.smoothed)], curve.smoothed,
                       pen=pg.mkPen(SMOOTHED, width=3), name="smoothed")
        marks = ((curve.suggestion, SUGGESTED, f"suggested {curve.suggestion:.2g}", 0.94),
                 (curve.current, CURRENT, f"now {curve.current:.2g}", 0.84))
        for rate, colour, text, height in marks:   # labels at two heights: they never cover
            line = pg.InfiniteLine(pos=math.log10(rate), angle=90, movable=False,
                                   pen=pg.mkPen(colour, width=2, style=Qt.PenStyle.DashLine),
                                   label=text, labelOpts={"color": colour, "position": height})
            self.plot.addItem(line)
        themed(self.plot, self.palette())
        self.status.setText(
            f"Suggested learning rate <b>{curve.suggestion:.2g}</b> ({curve.rule}; the loss "
            f"was lowest at {curve.minimum:.2g}), for {curve.optimizer}; the design now "
            f"uses {curve.current:.2g}. The test stopped: {curve.ended}.")
        self.apply_button.setEnabled(True)
        self.apply_button.setDefault(True)

    def apply_suggestion(self) -> None:
        if self.curve is not None and self._apply(float(f"{self.curve.suggestion:.2g}")):
            self.status.setText(f"The learning rate is now {self.curve.suggestion:.2g} "
                                "(Edit \u203a Undo puts it back).")
            self.apply_button.setEnabled(False)

    def done(self, result: int) -> None:
        self._poll.stop()
        super().done(result)
