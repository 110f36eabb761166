"""designer.timers.make_timer: the periodic and the debouncing timer the views share."""

from PySide6.QtCore import QObject

from designer.timers import make_timer


def test_a_debounce_timer_fires_once_after_its_latest_start(qtbot):
    owner, calls = QObject(), []
    timer = make_timer(owner, 10, lambda: calls.append("fired"), single_shot=True)
    assert not timer.isActive() and timer.parent() is owner
    timer.start()
    timer.start()   # a second edit restarts the wait instead of adding a call
    qtbot.waitUntil(lambda: calls == ["fired"])
    assert not timer.isActive()


def test_a_periodic_timer_keeps_firing_until_stopped(qtbot):
    owner, calls = QObject(), []
    timer = make_timer(owner, 5, lambda: calls.append("tick"))
    timer.start()
    qtbot.waitUntil(lambda: len(calls) >= 3)
    assert timer.isActive()
    timer.stop()
