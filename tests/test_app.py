"""The main window: start-up, title with the unsaved marker, the unsaved prompt, shortcuts."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSize
from PySide6.QtGui import QAction, QKeySequence
from test_app_support import ScriptedDialogs, make_window

from designer.app import DEFAULT_TEMPLATE, open_main_window, run_app
from designer.panels.cheat_sheet import CheatSheet, shortcut_text
from designer.settings import AppSettings
from designer.undo_commands import SetParams
from templates import load_template

ROOT = Path(__file__).resolve().parents[1]


def test_start_up_shows_the_default_template_ready_to_train(qtbot, tmp_path):
    window = open_main_window(None, AppSettings(tmp_path / "s.ini"), None, tmp_path / "rec",
                              ScriptedDialogs())
    qtbot.addWidget(window)
    assert window.isVisible()
    assert window.document.design == load_template(DEFAULT_TEMPLATE)
    assert window.windowTitle() == f"NeuralCanvas \u2014 {DEFAULT_TEMPLATE}[*]"
    assert not window.isWindowModified()
    assert window.document.report.ok


def test_start_up_with_a_bad_file_explains_it_and_keeps_the_template(qtbot, tmp_path):
    bad = tmp_path / "broken.ncnet"
    bad.write_text('{"format": "neuralcanvas.design", "schema_version": 1, "networks": 3}')
    dialogs = ScriptedDialogs()
    window = open_main_window(bad, AppSettings(tmp_path / "s.ini"), None, tmp_path / "rec",
                              dialogs)
    qtbot.addWidget(window)
    assert len(dialogs.errors) == 1
    title, message = dialogs.errors[0]
    assert title == "Cannot open design" and "broken.ncnet" in message and "networks" in message
    assert window.document.design == load_template(DEFAULT_TEMPLATE)
    assert window.document.path is None


def test_too_many_arguments_print_the_usage(capsys):
    assert run_app(["a.ncnet", "b.ncnet"]) == 2
    assert "usage: neuralcanvas" in capsys.readouterr().err


@pytest.mark.slow
def test_start_up_does_not_import_torch(tmp_path):
    script = (
        "import sys, json\n"
        "from designer.app import application, open_main_window\n"
        "from designer.settings import AppSettings\n"
        "from designer.theme import ThemeManager\n"
        "from pathlib import Path\n"
        "app = application()\n"
        f"window = open_main_window(None, AppSettings(Path({str(tmp_path)!r}) / 's.ini'),\n"
        "    ThemeManager(app), Path(" + repr(str(tmp_path / "rec")) + "))\n"
        "app.processEvents()\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'title': window.windowTitle()}))\n"
        "window.close()\n")
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    result = subprocess.run([sys.executable, "-c", script], check=False, cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout.strip().splitlines()[-1])
    assert facts == {"torch": False, "title": "NeuralCanvas \u2014 cnn[*]"}


def test_title_marks_unsaved_changes(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    document = window.document
    conv = document.design.find("conv1")
    document.push(SetParams(document.design, conv, {"out_channels": 4}))
    assert window.isWindowModified()
    document.undo_stack.undo()
    assert not window.isWindowModified()
    document.design.set_name("renamed")
    assert window.windowTitle() == "NeuralCanvas \u2014 renamed[*]"


def test_unsaved_changes_prompt_before_new(qtbot, tmp_path):
    dialogs = ScriptedDialogs(unsaved_answer="cancel", template=load_template("mlp"))
    window = make_window(qtbot, tmp_path, dialogs=dialogs)
    document = window.document
    document.push(SetParams(document.design, document.design.find("conv1"), {"out_channels": 4}))
    window.actions_by_name["new"].trigger()
    assert dialogs.asked == ["unsaved cnn"]
    assert document.design.name == "cnn" and window.isWindowModified()

    dialogs.unsaved_answer = "discard"
    window.actions_by_name["new"].trigger()
    assert dialogs.asked[-2:] == ["unsaved cnn", "template"]
    assert document.design == load_template("mlp") and not window.isWindowModified()
    assert document.undo_stack.count() == 0

    dialogs.asked.clear()
    window.actions_by_name["new"].trigger()  # clean: no question
    assert dialogs.asked == ["template"]


def test_save_answer_saves_before_continuing(qtbot, tmp_path):
    target = tmp_path / "kept.ncnet"
    dialogs = ScriptedDialogs(unsaved_answer="save", save_path=target)
    window = make_window(qtbot, tmp_path, dialogs=dialogs)
    document = window.document
    document.push(SetParams(document.design, document.design.find("conv1"), {"out_channels": 4}))
    assert window.close()
    assert target.is_file()
    saved = json.loads(target.read_text())
    conv = next(n for n in saved["networks"]["model"]["nodes"] if n["name"] == "conv1")
    assert conv["params"]["out_channels"] == 4


def test_cancel_keeps_the_window_open(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path, dialogs=ScriptedDialogs(unsaved_answer="cancel"))
    window.show()
    document = window.document
    document.push(SetParams(document.design, document.design.find("conv1"), {"out_channels": 4}))
    assert not window.close()
    assert window.isVisible()
    window.dialogs.unsaved_answer = "discard"


def test_standard_shortcuts(qtbot, tmp_path):
    actions = make_window(qtbot, tmp_path).actions_by_name
    standard = {"undo": QKeySequence.StandardKey.Undo, "redo": QKeySequence.StandardKey.Redo,
                "save": QKeySequence.StandardKey.Save, "open": QKeySequence.StandardKey.Open,
                "new": QKeySequence.StandardKey.New, "copy": QKeySequence.StandardKey.Copy,
                "cut": QKeySequence.StandardKey.Cut, "paste": QKeySequence.StandardKey.Paste,
                "delete": QKeySequence.StandardKey.Delete,
                "select_all": QKeySequence.StandardKey.SelectAll,
                "zoom_in": QKeySequence.StandardKey.ZoomIn,
                "zoom_out": QKeySequence.StandardKey.ZoomOut}
    for name, key in standard.items():
        for binding in QKeySequence.keyBindings(key):
            assert binding in actions[name].shortcuts(), name
    assert QKeySequence("Ctrl+Shift+Z") in actions["redo"].shortcuts()
    assert QKeySequence("Ctrl+Shift+S") in actions["save_as"].shortcuts()
    assert actions["frame_selection"].shortcuts() == [QKeySequence("F")]
    assert actions["frame_all"].shortcuts() == [QKeySequence("A"), QKeySequence("Home")]
    assert actions["duplicate"].shortcuts() == [QKeySequence("Ctrl+D")]
    assert QKeySequence("Tab") in actions["add_layer"].shortcuts()
    assert actions["auto_layout"].shortcuts() == [QKeySequence("Ctrl+L")]


def test_undo_action_says_what_it_undoes(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    document = window.document
    document.push(SetParams(document.design, document.design.find("conv1"), {"out_channels": 4}))
    assert window.actions_by_name["undo"].text() == "&Undo Change out_channels of conv1"
    window.actions_by_name["undo"].trigger()
    assert document.design.node(document.design.find("conv1")).params["out_channels"] == 32


def test_cheat_sheet_lists_every_shortcut_from_the_actions(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    sheet = window.show_cheat_sheet()
    qtbot.addWidget(sheet)
    with_keys = [a for a in window.actions_by_name.values() if a.shortcuts()]
    assert sheet.table.rowCount() == len(with_keys)
    assert sheet.shortcut_of("Frame Selection") == "F"
    assert sheet.shortcut_of("Duplicate") == "Ctrl+D"
    assert sheet.shortcut_of("Undo") == shortcut_text(window.actions_by_name["undo"])
    extra = QAction("Train", window)
    extra.setShortcut(QKeySequence("Ctrl+T"))
    window.menuBar().addMenu("&Run").addAction(extra)
    assert CheatSheet(window.menuBar()).shortcut_of("Train") == "Ctrl+T"
    sheet.search.setText("zoom")
    shown = [sheet.table.item(r, 1).text() for r in range(sheet.table.rowCount())
             if not sheet.table.isRowHidden(r)]
    assert shown == ["Zoom In", "Zoom Out", "Reset Zoom"]


def test_window_layout_is_remembered(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    window.show()
    window.docks["palette"].hide()
    chosen = window.minimumSizeHint().expandedTo(window.minimumSize()) + QSize(53, 41)
    window.resize(chosen)
    assert window.size() == chosen
    assert window.close()
    again = make_window(qtbot, tmp_path)
    again.show()
    assert again.docks["palette"].isHidden()
    assert again.size() == chosen
