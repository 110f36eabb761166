"""Timers the views and the training session run on: a periodic poll, or a debounce that
fires once after the last start."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer


def make_timer(parent: QObject, interval_ms: int, slot: Callable[[], object],
               single_shot: bool = False) -> QTimer:
    """A stopped QTimer owned by `parent` that calls `slot` every `interval_ms` (or once,
    `interval_ms` after its latest start, when `single_shot`)."""
    timer = QTimer(parent)
    timer.setSingleShot(single_shot)
    timer.setInterval(interval_ms)
    timer.timeout.connect(slot)
    return timer
