"""Guard against Qt bindings that lose references to None.

PySide6 6.12.0 drops one reference to None for each call of a Qt method that returns None; on
Python 3.11 (where None is not immortal) the count eventually reaches zero and the interpreter
aborts with "none_dealloc". 6.11.x does not. This fails fast if such a version is installed.
"""

import sys

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QImage, QPainter, QPen

CALLS = 3000


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12")
def test_qt_calls_returning_none_keep_none_alive(qapp):
    image = QImage(16, 16, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    timer = QTimer()
    pen = QPen(QColor("red"))
    before = sys.getrefcount(None)
    for i in range(CALLS):
        painter.setPen(pen)
        painter.drawLine(0, 0, 15, i % 16)
        timer.setInterval(i % 100)
    after = sys.getrefcount(None)
    painter.end()
    lost = before - after
    assert lost < CALLS // 10, (
        f"{lost} references to None were lost over {3 * CALLS} Qt calls returning None; this "
        "PySide6 build has the none_dealloc bug (6.12.0) and will crash Python 3.11: install "
        "PySide6-Essentials<6.12")
