"""Start-up: the app reopens the design file open when it was last used (the cnn template the
first time; the template and a word in the status bar when that file has gone), and before Qt
starts it names the system libraries its X11 plugin lacks and the command that installs them."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from test_app_support import ScriptedDialogs
from test_autosave import write_crash_leftover

from designer import launcher, qt_platform_check
from designer.app import DEFAULT_TEMPLATE, open_main_window
from designer.settings import AppSettings
from designer.undo_commands import SetParams
from engine import load_design, save_design
from templates import load_template

CTRL = Qt.KeyboardModifier.ControlModifier


class Session:
    """Starts of the app sharing one settings file and one recovery folder, as restarts do."""

    def __init__(self, qtbot, tmp_path):
        self.qtbot, self.tmp_path = qtbot, tmp_path

    def start(self, file=None, dialogs=None):
        window = open_main_window(file, AppSettings(self.tmp_path / "settings.ini"), None,
                                  self.tmp_path / "recovery", dialogs or ScriptedDialogs())
        self.qtbot.addWidget(window)
        window.activateWindow()
        self.qtbot.waitUntil(window.isActiveWindow)
        return window


@pytest.fixture
def session(qtbot, tmp_path):
    return Session(qtbot, tmp_path)


def design_file(tmp_path, template="mlp", name="mine"):
    path = tmp_path / f"{name}.ncnet"
    design = load_template(template)
    design.set_name(name)
    save_design(design, path)
    return path


def test_a_restart_reopens_the_file_opened_last(qtbot, session, tmp_path):
    path = design_file(tmp_path)
    first = session.start(dialogs=ScriptedDialogs(open_path=path))
    assert first.document.design.name == DEFAULT_TEMPLATE  # the first start ever
    qtbot.keyClick(first.tabs, Qt.Key.Key_O, CTRL)
    qtbot.waitUntil(lambda: first.document.path == path.resolve())
    assert first.close()

    again = session.start()
    assert again.document.path == path.resolve()
    assert again.document.design == load_design(path)
    assert again.windowTitle().startswith("NeuralCanvas \u2014 mine")
    assert not again.isWindowModified()


def test_a_restart_reopens_the_file_saved_last(qtbot, session, tmp_path):
    target = tmp_path / "saved.ncnet"
    first = session.start(dialogs=ScriptedDialogs(save_path=target))
    qtbot.keyClick(first.tabs, Qt.Key.Key_S, CTRL | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(target.exists)
    assert first.close()
    assert session.start().document.path == target.resolve()


def test_unsaved_work_at_quit_is_asked_about_and_the_saved_edit_reopens(qtbot, session,
                                                                       tmp_path):
    path = design_file(tmp_path, "cnn", "edited")
    first = session.start(path, ScriptedDialogs(unsaved_answer="save"))
    design = first.document.design
    first.document.push(SetParams(design, design.find("conv1"), {"out_channels": 4}))
    assert first.close()
    assert first.dialogs.asked == ["unsaved edited"]

    reopened = session.start().document.design
    assert reopened.node(reopened.find("conv1")).params["out_channels"] == 4


@pytest.mark.parametrize("damage, reason", [
    (lambda path: path.unlink(), "no such file"),
    (lambda path: path.write_text("{ not json"), "not valid JSON"),
])
def test_a_last_design_that_is_gone_or_unreadable_is_reported_and_the_template_opens(
        session, tmp_path, damage, reason):
    path = design_file(tmp_path)
    session.start(path).close()
    damage(path)

    window = session.start()
    assert window.document.design == load_template(DEFAULT_TEMPLATE)
    assert window.document.path is None
    message = window.statusBar().currentMessage()
    assert "Could not reopen" in message and str(path) in message and reason in message
    assert window.dialogs.errors == []  # no dialog in the user's way at start-up
    assert window.close()
    assert session.start().statusBar().currentMessage() == ""  # said once


def test_a_file_named_on_the_command_line_wins_and_is_reopened_next(session, tmp_path):
    session.start(design_file(tmp_path, "mlp", "last")).close()
    asked = design_file(tmp_path, "gan", "asked")
    assert session.start(asked).document.path == asked.resolve()
    assert session.start().document.path == asked.resolve()


def test_recovery_is_still_offered_and_declining_it_keeps_the_reopened_design(session,
                                                                             tmp_path):
    path = design_file(tmp_path)
    session.start(path).close()
    crashed = load_template("gan")
    crashed.set_name("half-finished")
    leftover = write_crash_leftover(tmp_path / "recovery", crashed)

    window = session.start(dialogs=ScriptedDialogs(restore=False))
    assert window.dialogs.asked == ["restore recovery-crashed.ncnet"]
    assert not leftover.exists()
    assert window.document.path == path.resolve() and not window.isWindowModified()


# ---------------------------------------------------------------------- the Qt platform check
LDD_WITHOUT_TWO = """\
/x/PySide6/Qt/plugins/platforms/libqxcb.so:
\tlinux-vdso.so.1 (0x00007ffd)
\tlibQt6XcbQpa.so.6 => /x/PySide6/Qt/lib/libQt6XcbQpa.so.6 (0x00007f11)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f12)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
/x/PySide6/QtWidgets.abi3.so:
\tlibxcb-icccm.so.4 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f13)
"""


def test_missing_libraries_are_read_from_ldd_once_each_in_order():
    assert qt_platform_check.missing_libraries(LDD_WITHOUT_TWO) == [
        "libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert qt_platform_check.missing_libraries("\tlibc.so.6 => /lib/libc.so.6 (0x1)\n") == []


def test_the_message_names_the_libraries_and_the_install_command():
    text = qt_platform_check.explanation(["libxcb-icccm.so.4", "libxcb-keysyms.so.1",
                                          "libgthread-2.0.so.0", "libglib-2.0.so.0"])
    assert "libxcb-icccm.so.4 libxcb-keysyms.so.1" in text
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1 libglib2.0-0\n" in text
    unknown = qt_platform_check.explanation(["libweird.so.3"])
    assert "apt-get" not in unknown and "libweird.so.3" in unknown and "apt-file" in unknown


@pytest.mark.parametrize("environ, platform, checked", [
    ({"DISPLAY": ":0"}, "linux", True),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, "linux", True),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb;wayland"}, "linux", True),
    ({"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"}, "linux", False),
    ({"QT_QPA_PLATFORM": "xcb"}, "linux", False),
    ({}, "linux", False),
    ({"DISPLAY": ":0"}, "darwin", False),
])
def test_the_check_runs_only_when_qt_will_load_xcb(environ, platform, checked):
    assert qt_platform_check.uses_xcb(environ, platform) is checked


def test_launcher_explains_missing_libraries_instead_of_letting_qt_abort(monkeypatch, capsys):
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(qt_platform_check, "_ldd", lambda files: LDD_WITHOUT_TWO)
    assert launcher.main([]) == 1
    error = capsys.readouterr().err
    assert "libxcb-icccm.so.4 libxcb-keysyms.so.1" in error
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in error


@pytest.mark.skipif(not qt_platform_check._xcb_plugin_files(), reason="no xcb plugin here")
def test_on_this_machine_the_answer_follows_the_real_ldd():
    """The real ldd on the real plugin: no message where it finds every library, and one
    naming each library it cannot find where some are missing (a machine without the
    libxcb packages the README's Xvfb line installs)."""
    report = qt_platform_check._ldd(qt_platform_check._xcb_plugin_files())
    assert "libxcb" in report
    missing = [line.split("=>")[0].strip() for line in report.splitlines()
               if line.strip().endswith("=> not found")]
    problem = qt_platform_check.platform_problem({"DISPLAY": ":0"}, "linux")
    if missing:
        assert problem is not None and all(name in problem for name in missing), problem
    else:
        assert problem is None


@pytest.mark.skipif(not qt_platform_check._xcb_plugin_files(), reason="no xcb plugin here")
def test_every_library_of_the_xcb_plugin_has_its_package_listed():
    """The table covers what the plugin actually loads (except libc and its kin)."""
    report = qt_platform_check._ldd(qt_platform_check._xcb_plugin_files())
    loaded = {line.split("=>")[0].strip() for line in report.splitlines() if "=>" in line}
    x11 = {name for name in loaded if name.startswith(("libxcb", "libX", "libxkb", "libEGL",
                                                       "libGL", "libfontconfig", "libdbus"))}
    assert x11 and x11 <= set(qt_platform_check.DEBIAN_PACKAGES)
