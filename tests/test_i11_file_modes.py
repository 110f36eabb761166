"""Saved designs and exported files get the mode any new file of the user gets (0666 less the
umask), not the temporary file's 0600; a file that already exists keeps its mode."""

import os
import stat
import sys

import pytest
from PySide6.QtCore import Qt
from test_app_support import ScriptedDialogs, make_window

from engine import cli, load_design, save_design
from templates import load_template

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")


@pytest.fixture
def umask():
    """Set the process umask for one test; the previous one comes back afterwards."""
    previous = os.umask(0o022)
    yield os.umask
    os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_a_new_design_file_gets_the_umask_mode(tmp_path, umask, mask, expected):
    umask(mask)
    target = tmp_path / "new.ncnet"
    save_design(load_template("mlp"), target)
    assert mode(target) == expected
    assert load_design(target) == load_template("mlp")
    assert [p.name for p in tmp_path.iterdir()] == ["new.ncnet"]  # no temporary left


def test_an_existing_file_keeps_its_mode(tmp_path, umask):
    target = tmp_path / "shared.ncnet"
    save_design(load_template("mlp"), target)
    target.chmod(0o664)
    umask(0o077)
    save_design(load_template("cnn"), target)
    assert mode(target) == 0o664
    assert load_design(target) == load_template("cnn")


def test_exported_code_gets_the_umask_mode(tmp_path, umask, capsys):
    umask(0o002)
    design = tmp_path / "mlp.ncnet"
    save_design(load_template("mlp"), design)
    script = tmp_path / "train_mlp.py"
    assert cli.main(["export", str(design), "-o", str(script)]) == 0
    assert mode(script) == 0o664


def test_save_as_from_the_window_gets_the_umask_mode(qtbot, tmp_path, umask):
    umask(0o022)
    target = tmp_path / "mine.ncnet"
    window = make_window(qtbot, tmp_path, dialogs=ScriptedDialogs(save_path=target))
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window.tabs, Qt.Key.Key_S,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(target.exists)
    assert mode(target) == 0o644
