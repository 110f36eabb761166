"""The Setup tab: the settings form beside what a run would see before it starts (parameters,
FLOPs per sample, memory for the batch size, the data's shapes and classes, a few samples, and
any mismatch between data and design)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from designer.document import DesignDocument
from designer.theme import coloured
from designer.training.samples_view import SampleView
from designer.training.settings_form import SettingsForm
from engine.wording import memory_text, si_prefixed


def shape_text(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ")" if shape else "one value"


class Preflight(QWidget):
    """The figures of the next run; filled from an engine Preview (computed in the helper)."""

    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        box = QGroupBox("Before you train", self)
        form = QFormLayout(box)
        self.values: dict[str, QLabel] = {}
        for key, label in (("parameters", "Parameters"), ("flops", "FLOPs per sample"),
                           ("memory", "Memory"), ("data", "Data"), ("samples", "Samples"),
                           ("shapes", "Shapes"), ("classes", "Classes")):
            value = QLabel("\u2026", box)
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(label, value)
            self.values[key] = value
        self.problem = QLabel(box)
        self.problem.setWordWrap(True)
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem.hide()
        form.addRow(self.problem)
        self.samples = SampleView("A few samples of the data appear here")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(box)
        layout.addWidget(self.samples, 1)
        document.reportChanged.connect(lambda _report: self.show_parameters())
        self.show_parameters()

    def show_parameters(self) -> None:
        """Counted by the engine's check: known at once, without torch."""
        report, design = self.document.report, self.document.design
        counts = [(n, report.total_params(n)) for n in design.networks]
        total = sum(count for _n, count in counts)
        text = f"{total:,}"
        if len(counts) > 1:
            text += " (" + ", ".join(f"{n} {c:,}" for n, c in counts) + ")"
        self.values["parameters"].setText(text)

    def show_pending(self) -> None:
        for key in ("flops", "memory"):
            self.values[key].setText("estimating\u2026")

    def forget(self) -> None:
        """Another design is open: nothing of the previous design's data stays in view
        while the new one is estimated (its rows, its mismatch, its samples)."""
        for key in ("data", "samples", "shapes", "classes"):
            self.values[key].setText("\u2026")
        self.problem.clear()
        self.problem.hide()
        self.samples.show_data(None, None, None, "")

    def show_preview(self, preview) -> None:
        """An engine.training.data.Preview: figures, data facts, samples, or the problem."""
        cost, data = preview.cost, preview.data
        if cost:
            self.values["flops"].setText(f"{si_prefixed(cost['flops_per_sample'])}FLOPs forward "
                                         f"(about 3\u00d7 that per training step)")
            self.values["memory"].setText(
                f"about {memory_text(cost['total_bytes'])} for a batch of {cost['batch_size']} "
                f"(activations {memory_text(cost['activation_bytes'])}, weights, gradients "
                f"and optimizer state {memory_text(cost['weight_bytes'])})")
        else:
            for key in ("flops", "memory"):
                self.values[key].setText("not known until the problem below is fixed")
        if data:
            self.values["data"].setText(data.get("description", ""))
            self.values["samples"].setText(f"{data['train_samples']:,} for training, "
                                           f"{data['val_samples']:,} for validation")
            self.values["shapes"].setText(f"inputs {shape_text(data['input_shape'])}, "
                                          f"targets {shape_text(data['target_shape'])}")
            labels = data.get("labels") or []
            classes = data.get("classes") or 0
            self.values["classes"].setText(
                f"{classes}: {', '.join(labels[:12])}{', …' if len(labels) > 12 else ''}"
                if classes else "none (the targets are values)")
        else:
            for key in ("data", "samples", "shapes", "classes"):
                self.values[key].setText("\u2014")
        messages = []
        if preview.problem:
            messages.append(coloured(f"<b>Cannot train yet:</b> {preview.problem}"))
        messages += [coloured(f"<b>Note:</b> {w}", "warning") for w in preview.warnings]
        self.problem.setText("<br>".join(messages))
        self.problem.setVisible(bool(messages))
        labels = data.get("labels") if data else None
        self.samples.show_data(preview.inputs, preview.targets, labels,
                               "The first samples of the data" if preview.inputs is not None
                               else "")

    def show_failure(self, reason: str) -> None:
        self.problem.setText(coloured(f"The estimate failed: {reason}"))
        self.problem.show()


class SetupView(QSplitter):
    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.form = SettingsForm(document, self)
        self.preflight = Preflight(document)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.preflight)
        self.addWidget(self.form)
        self.addWidget(scroll)
        self.setStretchFactor(0, 1)
        self.setStretchFactor(1, 1)
        self.setChildrenCollapsible(False)
