"""The banner over the plots: the latest diagnostic or failure, what it means and what to try.

Diagnostics come from the engine with a message and a suggested fix; the banner adds a short
explanation for a learner, a button that shows the layer on the canvas when one is named, and
the technical details of a failure on request.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from designer.theme import SEVERITY_TINTS
from engine.wording import count_of

EXPLANATIONS = {
    "overfitting": "The network is learning the training samples by heart: its validation "
                   "loss rises while the training loss still falls, so it gets worse at new data.",
    "vanishing_gradients": "Almost no gradient reaches this layer, so its weights hardly "
                           "change and it stops learning.",
    "exploding_gradients": "The gradient at this layer is huge, so each step throws its "
                           "weights far off and training becomes unstable.",
    "non_finite_loss": "The loss became NaN or infinite: the numbers overflowed, usually from "
                       "a learning rate that is too high.",
    "mode_collapse": "The generator makes nearly the same sample whatever the noise: it found "
                     "one output that fools the discriminator instead of covering the data.",
    "learning_rate_too_high": "Each step changes the weights so much that it overshoots: the "
                              "loss grows instead of shrinking, and everything after that "
                              "(dead units, vanished gradients) follows from it.",
    "learning_rate_too_low": "Each step changes the weights so little that the loss hardly "
                             "moves: training would take far longer than it needs to.",
    "dead_relus": "A ReLU that outputs zero for every input passes no gradient back, so the "
                  "units feeding it stop learning for good.",
    "class_count": "The network's output size and the data's number of classes disagree.",
    "precision": "Mixed precision needs a CUDA GPU.",
}
TITLES = {"error": "Error", "warning": "Warning", "info": "Note"}
CODE_TITLES = {"dead_relus": "Dead ReLUs", "non_finite_loss": "NaN or infinite loss"}


class Banner(QFrame):
    """Hidden until there is something to say; `showLayer(node id)` asks for the canvas."""

    showLayer = Signal(str)
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(self)
        self.text = QLabel(self)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.layer_button = QPushButton("Show layer", self)
        self.layer_button.clicked.connect(lambda: self.showLayer.emit(self.node or ""))
        self.details_button = QPushButton("Details\u2026", self)
        self.details_button.clicked.connect(self._show_details)
        close = QToolButton(self)
        close.setText("\u2715")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.dismiss)
        words = QVBoxLayout()
        words.setSpacing(1)
        words.addWidget(self.title)
        words.addWidget(self.text)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addLayout(words, 1)
        layout.addWidget(self.layer_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.node: str | None = None
        self.details = ""
        self.severity = ""
        self.hide()

    def show_diagnostic(self, event, more: int = 0) -> None:
        """An engine `diagnostic` event (`more`: how many came before it)."""
        explanation = EXPLANATIONS.get(event.code, "")
        lines = [event.message]
        if explanation:
            lines.append(f"<i>{explanation}</i>")
        if event.fix:
            lines.append(f"<b>Try:</b> {event.fix}")
        if more:
            lines.append(f"({count_of(more, 'other diagnostic')} in this run)")
        title = CODE_TITLES.get(event.code, event.code.replace("_", " ").capitalize())
        self._show(event.severity, title,
                   "<br>".join(lines), event.node, "")

    def show_failure(self, event) -> None:
        """An engine `failed` event: the readable reason, the traceback behind Details."""
        kind = {"data": "The data does not fit the design", "design": "The design cannot train",
                "settings": "The training settings need a change",
                "crashed": "The training process stopped",
                "out_of_memory": "Out of memory",
                "non_finite_loss": "The loss became NaN or infinite"}.get(event.error,
                                                                         "Training failed")
        text = event.reason
        if event.checkpoint:
            text += f"<br>The last good checkpoint is kept: {event.checkpoint}"
        self._show("error", kind, text, None, event.details)

    def _show(self, severity: str, title: str, html: str, node: str | None,
              details: str) -> None:
        self.severity, self.node, self.details = severity, node, details
        self.title.setText(f"<b>{TITLES.get(severity, 'Note')}: {title}</b>")
        self.text.setText(html)
        self.layer_button.setVisible(bool(node))
        self.details_button.setVisible(bool(details))
        tint = QColor(SEVERITY_TINTS.get(severity, SEVERITY_TINTS["info"]))
        base = self.palette().color(QPalette.ColorRole.Window)
        mixed = QColor.fromRgbF(*(0.82 * a + 0.18 * b for a, b in zip(
            base.getRgbF()[:3], tint.getRgbF()[:3])))
        self.setStyleSheet(f"#trainingBanner {{ background: {mixed.name()}; "
                           f"border: 1px solid {tint.name()}; border-radius: 4px; }}")
        self.show()

    def dismiss(self) -> None:
        self.hide()
        self.node = None
        self.dismissed.emit()

    def _show_details(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "Details", self.title.text(),
                          QMessageBox.StandardButton.Close, self)
        box.setDetailedText(self.details)
        box.setInformativeText(self.text.text())
        box.open()
