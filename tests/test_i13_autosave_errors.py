"""Autosave failure reaches the user: while the recovery folder cannot be written, the status bar
says the work is not backed up (the reason in its tooltip); once a write succeeds it goes."""

import shutil

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from test_app_support import ScriptedDialogs, make_window


def autosave_note(window) -> QLabel:
    return window.statusBar().findChild(QLabel, "autosaveNote")


def make_unwritable(folder):
    """Put a plain file where the folder was: nothing can be written inside it, even by root
    (for whom a read-only mode would not stop a write)."""
    shutil.rmtree(folder)
    folder.write_text("not a folder")


def make_writable(folder):
    folder.unlink()
    folder.mkdir()


def edit_by_keyboard(qtbot, window):
    """Select everything on the canvas and delete it, as a person does."""
    window.activateWindow()   # the canvas's keys are actions: they act in the active window
    qtbot.waitUntil(window.isActiveWindow)
    view = window.tabs.current_view()
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert not window.document.undo_stack.isClean()


def test_an_autosave_failure_is_shown_until_autosave_works_again(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    window.show()
    qtbot.waitExposed(window)
    note = autosave_note(window)
    assert note is not None and not note.isVisible()

    recovery = tmp_path / "recovery"
    make_unwritable(recovery)
    window.autosaver.timer.setInterval(20)
    edit_by_keyboard(qtbot, window)
    qtbot.waitUntil(note.isVisible, timeout=5000)
    assert "not backed up" in note.text()
    assert str(window.autosaver.path) in note.toolTip() and "failed" in note.toolTip()

    make_writable(recovery)
    qtbot.waitUntil(lambda: not note.isVisible(), timeout=5000)
    assert window.autosaver.path.exists()
    assert note.toolTip() == ""


def test_a_recovery_folder_that_cannot_be_used_never_stops_saving_or_closing(qtbot, tmp_path):
    target = tmp_path / "mine.ncnet"
    window = make_window(qtbot, tmp_path, dialogs=ScriptedDialogs(save_path=target))
    window.show()
    window.activateWindow()  # the Save As shortcut goes to the active window
    qtbot.waitUntil(window.isActiveWindow)
    make_unwritable(tmp_path / "recovery")
    edit_by_keyboard(qtbot, window)
    window.autosaver.save_now()
    assert autosave_note(window).isVisible()

    qtbot.keyClick(window.tabs, Qt.Key.Key_S,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(target.exists)
    assert window.document.path == target and window.document.undo_stack.isClean()
    assert window.statusBar().currentMessage() == f"Saved {target}"
    assert window.close()
