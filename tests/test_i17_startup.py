"""Issue 17, the window appears first: panels shown while a window starts refresh once it has
painted (the Training panel's first refresh imported pyqtgraph and started the helper
processes before the first frame); the code view writes its text in the editor, never
queued behind the helper's torch jobs; the check's caches are shared safely between threads."""

from __future__ import annotations

import threading

from PySide6.QtWidgets import QApplication, QWidget

from designer.app import AfterFirstPaint
from designer.panels.lazy import RefreshWhenShown, hold_refreshes, release_refreshes
from designer.training.jobs import editor_thread
from engine.recent_cache import RecentCache


class Panel(RefreshWhenShown):
    def __init__(self) -> None:
        self.refreshes = 0

    def refresh(self) -> None:
        self.mark_fresh()
        self.refreshes += 1


def test_panels_shown_while_a_window_starts_refresh_when_released():
    shown, hidden_again, fresh = Panel(), Panel(), Panel()
    fresh.mark_fresh()
    hold_refreshes()
    try:
        for panel in (shown, hidden_again, fresh):
            panel.set_shown(True)
        shown.set_shown(True)
        hidden_again.set_shown(False)
        assert [p.refreshes for p in (shown, hidden_again, fresh)] == [0, 0, 0]
    finally:
        release_refreshes()
    assert [p.refreshes for p in (shown, hidden_again, fresh)] == [1, 0, 0]
    later = Panel()
    later.set_shown(True)   # no window starting: at once, as before
    assert later.refreshes == 1


def test_after_first_paint_runs_once_the_widget_has_painted(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    calls = []
    AfterFirstPaint(widget, lambda: calls.append("painted"))
    assert calls == []
    widget.show()
    qtbot.waitUntil(lambda: calls == ["painted"])
    widget.repaint()   # a later paint runs nothing more
    QApplication.processEvents()
    assert calls == ["painted"]


def test_a_widget_closed_before_painting_runs_it_too(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    calls = []
    AfterFirstPaint(widget, lambda: calls.append("released"))
    widget.show()
    widget.hide()   # at once, before the event loop paints it
    qtbot.waitUntil(lambda: calls == ["released"])


def test_the_open_window_refreshes_its_shown_panels_after_painting(qtbot, tmp_path):
    from designer.app import open_main_window
    from designer.settings import AppSettings

    window = open_main_window(None, AppSettings(tmp_path / "settings.ini"), None,
                              tmp_path / "recovery")
    qtbot.addWidget(window)
    training = window.training   # raised on a first start
    assert training.is_stale() and training.curves is None
    qtbot.waitUntil(lambda: not training.is_stale(), timeout=30_000)
    window.document.undo_stack.setClean()
    window.close()


def test_editor_jobs_run_on_a_thread_of_this_process():
    assert editor_thread().submit(threading.get_ident).result() != threading.get_ident()


def test_the_recent_cache_never_makes_one_thread_wait_for_another():
    """The code view's thread checks a design while the GUI thread checks another: a value
    being made on one thread must not hold up the cache for the other."""
    cache: RecentCache[str] = RecentCache(4)
    started, finish = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        finish.wait(timeout=30)
        return "slow"

    other = threading.Thread(target=cache.get, args=("a", slow))
    other.start()
    try:
        assert started.wait(timeout=30)
        assert cache.get("b", lambda: "quick") == "quick"   # not blocked by "a"
    finally:
        finish.set()
        other.join()
    assert cache.get("a", lambda: "again") == "slow"


def test_pysides_import_check_reads_bytes_and_answers_as_pyside_does():
    """PySide6 asks of every module imported after it whether it uses Qt; designer.app makes
    that a search of the file's bytes (once), with PySide's own answers."""
    import json
    import sys

    import designer.app
    import designer.main_window
    from designer import pyside_import_check

    feature = sys.modules["shibokensupport.feature"]
    check = feature._mod_uses_pyside
    pyside_import_check.install()
    assert feature._mod_uses_pyside is check and hasattr(check, "original")
    for module in (designer.main_window, json, sys, designer.app):
        assert check(module) == check.original(module)
    assert check(designer.main_window) and not check(json)
