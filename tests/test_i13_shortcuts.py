"""Issue 13, one table of actions: each canvas key is bound once, on its QAction (declared in
NetworkTabs._commands), and a key press fires its action exactly once; the view's own key
handler acts on none of the commands' keys."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from test_i11_window import CTRL, focused_canvas, shown_window

from designer.canvas.tabs import NetworkTabs


def command_names(tabs: NetworkTabs) -> list[str]:
    return [spec.name for spec in tabs._commands()]


def test_the_window_shows_the_canvas_actions_themselves(qtbot, tmp_path):
    window = shown_window(qtbot, tmp_path)
    for name in command_names(window.tabs):
        assert window.actions_by_name[name] is window.tabs.actions_by_name[name], name
        assert window.actions_by_name[name].shortcuts(), name


def test_a_shortcut_fires_its_action_exactly_once(qtbot, tmp_path):
    window = shown_window(qtbot, tmp_path)
    document = window.document
    view = focused_canvas(qtbot, window)
    QTest.keyClick(view, Qt.Key.Key_A, CTRL)
    fired: list[str] = []
    for name, action in window.actions_by_name.items():
        action.triggered.connect(lambda _checked=False, n=name: fired.append(n))
    count, steps = len(document.design.nodes()), document.undo_stack.count()
    QTest.keyClick(view, Qt.Key.Key_D, CTRL)
    assert fired == ["duplicate"]
    assert len(document.design.nodes()) == 2 * count
    assert document.undo_stack.count() == steps + 1


def test_the_views_key_handler_binds_no_command_key(qtbot, tmp_path):
    """Every key of every canvas action, given to the view's keyPressEvent directly (as if no
    shortcut had taken it), changes nothing: the action is the key's only binding."""
    window = shown_window(qtbot, tmp_path)
    document = window.document
    view = focused_canvas(qtbot, window)
    QTest.keyClick(view, Qt.Key.Key_A, CTRL)
    before = (document.design.to_dict(), document.undo_stack.count(), list(document.selection),
              view.zoom, view.search_popup)
    for name in command_names(window.tabs):
        for sequence in window.tabs.actions_by_name[name].shortcuts():
            combo = sequence[0]
            event = QKeyEvent(QEvent.Type.KeyPress, combo.key(), combo.keyboardModifiers())
            view.keyPressEvent(event)
            after = (document.design.to_dict(), document.undo_stack.count(),
                     list(document.selection), view.zoom, view.search_popup)
            assert after == before, f"{name}: {sequence.toString()}"
