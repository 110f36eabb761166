"""The thin indeterminate bar a dialog shows while its job runs in the helper process."""

from __future__ import annotations

from PySide6.QtWidgets import QProgressBar, QWidget


def busy_bar(parent: QWidget) -> QProgressBar:
    """A hidden, text-less bar that moves without an end (shown while a job runs)."""
    bar = QProgressBar(parent)
    bar.setRange(0, 0)
    bar.setTextVisible(False)
    bar.setMaximumHeight(8)
    bar.hide()
    return bar
