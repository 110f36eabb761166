"""Issue 11, the window: shortcuts without clashes, the blank design, design properties, the
toolbar, the user guide and the About box, driven through the real MainWindow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QToolButton, QWidget
from test_app_support import ScriptedDialogs, make_window

from designer.design_properties import DesignPropertiesDialog
from designer.panels.about import AboutDialog
from designer.panels.template_gallery import BLANK, TemplateGallery
from designer.panels.user_guide import UserGuide
from designer.shortcuts import ShortcutClash, assign_shortcuts
from engine.codegen.export import export_script

ROOT = Path(__file__).resolve().parents[1]
Key = QKeySequence.StandardKey
CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier

# What each platform's theme binds to the standard keys whose bindings differ (as Qt's themes
# report them: GNOME/KDE under X11, Windows, macOS); all other keys keep the real bindings.
PLATFORM_KEYS = {
    "x11": {Key.Delete: ["Del", "Ctrl+D"], Key.Redo: ["Ctrl+Shift+Z"], Key.Undo: ["Ctrl+Z"],
            Key.Quit: ["Ctrl+Q"]},
    "windows": {Key.Delete: ["Del"], Key.Redo: ["Ctrl+Y", "Alt+Shift+Backspace",
                                                 "Ctrl+Shift+Z"],
                Key.Undo: ["Ctrl+Z", "Alt+Backspace"], Key.Quit: []},
    "macos": {Key.Delete: ["Del", "Meta+D"], Key.Redo: ["Ctrl+Shift+Z"], Key.Undo: ["Ctrl+Z"],
              Key.Quit: ["Ctrl+Q"]},
}


@pytest.fixture(params=sorted(PLATFORM_KEYS))
def platform_keys(request, monkeypatch):
    """Pretend the platform's theme is GNOME/KDE, Windows or macOS."""
    table, real = PLATFORM_KEYS[request.param], QKeySequence.keyBindings

    def bindings(key):
        if key in table:
            return [QKeySequence(text) for text in table[key]]
        return real(key)

    monkeypatch.setattr(QKeySequence, "keyBindings", staticmethod(bindings))
    return request.param


def all_actions(window) -> list[QAction]:
    """Every QAction of the window: menus, toolbar, canvas, panels (the training panel's)."""
    found: list[QAction] = list(window.findChildren(QAction))
    for widget in [window, *window.findChildren(QWidget)]:
        found += [a for a in widget.actions() if a not in found]
    return found


def shown_window(qtbot, tmp_path, template: str = "cnn", dialogs=None):
    window = make_window(qtbot, tmp_path, template, dialogs)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    return window


def focused_canvas(qtbot, window):
    view = window.tabs.current_view()
    view.setFocus()
    qtbot.waitUntil(view.hasFocus)
    return view


# ---------------------------------------------------------------------- item 6: shortcuts
def test_no_two_actions_share_a_key(qtbot, tmp_path, platform_keys):
    window = make_window(qtbot, tmp_path)
    holders: dict[str, list[str]] = {}
    for action in all_actions(window):
        for key in action.shortcuts():
            holders.setdefault(key.toString(), []).append(action.text())
    clashes = {key: texts for key, texts in holders.items() if len(texts) > 1}
    assert clashes == {}, f"{platform_keys}: {clashes}"


def test_ctrl_d_duplicates_and_both_redo_keys_redo(qtbot, tmp_path, platform_keys):
    window = shown_window(qtbot, tmp_path)
    design = window.document.design
    count = len(design.nodes())
    view = focused_canvas(qtbot, window)
    QTest.keyClick(view, Qt.Key.Key_A, CTRL)          # select all
    QTest.keyClick(view, Qt.Key.Key_D, CTRL)          # duplicate
    assert len(design.nodes()) == 2 * count
    for redo in ((Qt.Key.Key_Y, CTRL), (Qt.Key.Key_Z, CTRL | SHIFT)):
        QTest.keyClick(view, Qt.Key.Key_Z, CTRL)
        assert len(design.nodes()) == count
        QTest.keyClick(view, *redo)
        assert len(design.nodes()) == 2 * count, f"{platform_keys}: {redo} did not redo"


def test_delete_key_still_deletes(qtbot, tmp_path, platform_keys):
    window = shown_window(qtbot, tmp_path)
    design = window.document.design
    view = focused_canvas(qtbot, window)
    QTest.keyClick(view, Qt.Key.Key_A, CTRL)
    QTest.keyClick(view, Qt.Key.Key_Delete)
    assert design.nodes() == []


def test_two_actions_naming_one_key_is_refused(qtbot):
    first, second = QAction("Duplicate"), QAction("Delete")
    with pytest.raises(ShortcutClash, match="Ctrl\\+D.*Duplicate.*Delete"):
        assign_shortcuts([(first, ["Ctrl+D"]), (second, ["Ctrl+D"])])


def test_a_named_key_wins_over_a_platform_expansion(qtbot, monkeypatch):
    monkeypatch.setattr(QKeySequence, "keyBindings", staticmethod(
        lambda key: [QKeySequence("Del"), QKeySequence("Ctrl+D")]))
    delete, duplicate = QAction("Delete"), QAction("Duplicate")
    assign_shortcuts([(delete, [Key.Delete, "Backspace"]), (duplicate, ["Ctrl+D"])])
    assert delete.shortcuts() == [QKeySequence("Del"), QKeySequence("Backspace")]
    assert duplicate.shortcuts() == [QKeySequence("Ctrl+D")]


# ---------------------------------------------------------------------- item 7: blank design
class GalleryDialogs(ScriptedDialogs):
    """Answers File > New with the real gallery, choosing its first entry by keyboard."""

    def choose_template(self):
        self.asked.append("template")
        gallery = TemplateGallery()
        gallery.list.setFocus()
        QTest.keyClick(gallery.list, Qt.Key.Key_Home)
        self.first_entry = gallery.list.currentItem().text()
        chosen = gallery.chosen()
        gallery.deleteLater()
        return chosen


def test_file_new_offers_a_blank_design_first(qtbot, tmp_path):
    dialogs = GalleryDialogs()
    window = shown_window(qtbot, tmp_path, dialogs=dialogs)
    QTest.keyClick(window, Qt.Key.Key_N, CTRL)
    assert dialogs.first_entry == BLANK
    design = window.document.design
    assert [design.node(n).type for n in design.nodes()] == ["Input"]
    assert design.description == "" and design.card == {} and design.training == {}
    assert window.windowTitle() == "NeuralCanvas \u2014 untitled[*]"


def properties_dialog(qtbot, window) -> DesignPropertiesDialog:
    window.actions_by_name["properties"].trigger()
    qtbot.waitUntil(lambda: window.findChild(DesignPropertiesDialog) is not None
                    and window.findChild(DesignPropertiesDialog).isVisible())
    return window.findChild(DesignPropertiesDialog)


def test_design_properties_change_name_and_description_in_one_undo_step(qtbot, tmp_path):
    window = shown_window(qtbot, tmp_path)
    document = window.document
    old = (document.design.name, document.design.description)
    view = focused_canvas(qtbot, window)
    QTest.keyClick(view, Qt.Key.Key_A, CTRL)
    QTest.keyClick(view, Qt.Key.Key_Delete)
    steps = document.undo_stack.count()

    dialog = properties_dialog(qtbot, window)
    assert dialog.name.text() == "cnn" and "convolutional" in dialog.description.toPlainText()
    dialog.name.setFocus()
    QTest.keyClick(dialog.name, Qt.Key.Key_A, CTRL)
    QTest.keyClicks(dialog.name, "my net")
    dialog.description.setFocus()
    QTest.keyClick(dialog.description, Qt.Key.Key_A, CTRL)
    QTest.keyClick(dialog.description, Qt.Key.Key_Delete)
    QTest.keyClicks(dialog.description, "Mine from scratch.")
    QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok),
                     Qt.MouseButton.LeftButton)
    assert (document.design.name, document.design.description) == ("my net",
                                                                   "Mine from scratch.")
    assert window.windowTitle() == "NeuralCanvas \u2014 my net[*]"
    assert document.undo_stack.count() == steps + 1

    probe = document.design.copy()     # the exported docstring is the new description
    flat = probe.add("Flatten", probe.add("Input", shape=(1, 8, 8)))
    probe.add("Output", probe.add("Linear", flat, out_features=10))
    code = export_script(probe).code
    assert "Mine from scratch." in code and old[1].split(".")[0] not in code

    QTest.keyClick(focused_canvas(qtbot, window), Qt.Key.Key_Z, CTRL)
    assert (document.design.name, document.design.description) == old
    assert window.windowTitle() == "NeuralCanvas \u2014 cnn[*]"


def test_design_properties_refuse_an_empty_name(qtbot, tmp_path):
    window = shown_window(qtbot, tmp_path)
    dialog = properties_dialog(qtbot, window)
    QTest.keyClick(dialog.name, Qt.Key.Key_A, CTRL)
    QTest.keyClick(dialog.name, Qt.Key.Key_Delete)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled() and dialog.problem.isVisible()
    assert "needs a name" in dialog.problem.text()
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert window.document.design.name == "cnn"


# ---------------------------------------------------------------------- item 13: toolbar
def test_toolbar_has_train_pause_stop_with_text_and_every_button_a_tooltip(qtbot, tmp_path):
    window = shown_window(qtbot, tmp_path)
    bar = window.tool_bar
    buttons = [bar.widgetForAction(a) for a in bar.actions() if not a.isSeparator()]
    assert all(isinstance(b, QToolButton) for b in buttons)
    for button in buttons:
        assert button.toolTip().strip(), button.defaultAction().text()
    by_text = {b.defaultAction().iconText(): b for b in buttons}
    for name in ("Train", "Pause", "Stop", "Export"):
        assert by_text[name].toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextBesideIcon
    assert by_text["Train"].defaultAction() is window.training.train_action
    assert "(F5)" in by_text["Train"].toolTip()
    assert by_text["Train"].isEnabled() and not by_text["Stop"].isEnabled()


# ---------------------------------------------------------------------- item 14: help
def test_f1_opens_the_offline_user_guide(qtbot, tmp_path):
    window = shown_window(qtbot, tmp_path)
    QTest.keyClick(window, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: window.findChild(UserGuide) is not None)
    guide = window.findChild(UserGuide)
    text = guide.browser.toPlainText()
    for words in ("Blank design", "Import PyTorch Module", "ONNX", "Ctrl+D", "Train"):
        assert words in text
    assert not guide.browser.openLinks() and not guide.browser.openExternalLinks()


def test_about_lists_the_versions(qtbot, tmp_path):
    import PySide6
    from PySide6.QtCore import qVersion

    window = shown_window(qtbot, tmp_path)
    window.actions_by_name["about"].trigger()
    qtbot.waitUntil(lambda: window.findChild(AboutDialog) is not None)
    about = window.findChild(AboutDialog)
    shown = {what: label.text() for what, label in about.values.items()}
    from importlib.metadata import version

    assert shown["NeuralCanvas"] == version("neuralcanvas")
    assert shown["PyTorch"] == version("torch")
    assert shown["Qt"] == qVersion() and shown["PySide6"] == PySide6.__version__
    assert shown["Python"] == ".".join(map(str, sys.version_info[:3]))
    about.reject()


@pytest.mark.slow
def test_about_names_the_training_device_and_never_imports_torch_in_the_editor(tmp_path):
    script = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from designer.app import application, open_main_window\n"
        "from designer.settings import AppSettings\n"
        "def main():\n"
        "    app = application()\n"
        f"    folder = Path({str(tmp_path)!r})\n"
        "    window = open_main_window(None, AppSettings(folder / 's.ini'), None, folder / 'r')\n"
        "    about = window.show_about()\n"
        "    label = about.values['Training devices']\n"
        "    while label.text() == 'looking…':\n"
        "        app.processEvents()\n"
        "    print(json.dumps({'torch': 'torch' in sys.modules, 'devices': label.text()}))\n"
        "    about.reject()\n"
        "    window.close()\n"
        "if __name__ == '__main__':\n"
        "    main()\n")
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data")}
    (tmp_path / "about.py").write_text(script)
    result = subprocess.run([sys.executable, str(tmp_path / "about.py")], check=False, cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout.strip().splitlines()[-1])
    assert facts["torch"] is False
    assert "(cpu)" in facts["devices"]


def test_first_start_shows_the_whole_setup_form(qtbot, tmp_path):
    """A first start (no saved layout) in a 1600x1000 screen's window: every settings field of
    the Setup tab is on screen without scrolling."""
    window = make_window(qtbot, tmp_path)
    window.resize(1440, 900)
    window.show()
    assert_whole_setup_form(qtbot, window)


def test_a_restart_keeps_the_whole_setup_form_in_view(qtbot, tmp_path):
    """The Setup tab's split between the form and the preview is kept with the window's layout:
    a second start used the even split, and the form lost its last rows below the fold."""
    first = make_window(qtbot, tmp_path)
    first.resize(1440, 900)
    first.show()
    assert_whole_setup_form(qtbot, first)
    form_share = share_of_form(first)
    assert first.close()
    again = make_window(qtbot, tmp_path)
    again.resize(1440, 900)   # the offscreen screen is smaller than the geometry kept
    again.show()
    qtbot.waitUntil(lambda: abs(share_of_form(again) - form_share) < 0.01)
    assert_whole_setup_form(qtbot, again)


def share_of_form(window) -> float:
    form, preview = window.training.setup.sizes()
    return form / (form + preview)


def assert_whole_setup_form(qtbot, window) -> None:
    form = window.training.setup.form
    qtbot.waitUntil(lambda: form.widget().height() <= form.viewport().height())
    training = window.docks["training"]
    assert training.isVisible() and not training.visibleRegion().isEmpty()
    viewport = form.viewport().rect()
    shown = [e for e in form.editors.values() if e.isVisible()]
    assert len(shown) > 15
    for editor in shown:
        corner = editor.mapTo(form.viewport(), editor.rect().bottomRight())
        assert viewport.contains(corner), editor.accessibleName()
    assert window.tabs.height() >= 0.3 * window.height() - 1
