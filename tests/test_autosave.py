"""Autosave writes a recovery file while there are unsaved changes; a crash leaves it behind
and the next start offers to restore it."""

import json

from test_app_support import ScriptedDialogs, make_window

from designer.autosave import Autosaver, find_recoveries
from designer.undo_commands import SetParams
from designer.document import DesignDocument
from engine import load_design, save_design
from templates import load_template


def edit(document, value=4):
    document.push(SetParams(document.design, document.design.find("conv1"),
                            {"out_channels": value}))


def test_unsaved_changes_are_written_on_the_timer_and_removed_when_clean(qtbot, tmp_path):
    document = DesignDocument(load_template("cnn"))
    saver = Autosaver(document, tmp_path, interval_ms=20)
    with qtbot.waitSignal(saver.timer.timeout):
        pass  # a tick while the design is clean writes nothing
    assert not saver.path.exists()
    edit(document)
    qtbot.waitUntil(saver.path.exists, timeout=2000)
    assert load_design(saver.path) == document.design
    document.undo_stack.setClean()  # as a save does
    assert not saver.path.exists()
    saver.close()


def test_a_running_sessions_recovery_file_is_not_offered(qtbot, tmp_path):
    document = DesignDocument(load_template("cnn"))
    saver = Autosaver(document, tmp_path)
    edit(document)
    saver.save_now()
    assert saver.path.exists()
    assert find_recoveries(tmp_path) == []  # its owner holds the lock
    saver.close()
    assert list(tmp_path.glob("*.ncnet")) == []  # a clean exit leaves nothing


def write_crash_leftover(directory, design, original=None):
    """What a crashed session leaves: the recovery design and its note, no live lock."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "recovery-crashed.ncnet"
    save_design(design, path)
    note = {"original": str(original) if original else None,
            "saved_at": "2025-01-02T03:04:05"}
    path.with_suffix(".json").write_text(json.dumps(note))
    return path


def test_restore_after_a_crash(qtbot, tmp_path):
    crashed = load_template("gan")
    crashed.set_name("half-finished")
    original = tmp_path / "work.ncnet"
    leftover = write_crash_leftover(tmp_path / "recovery", crashed, original)
    window = make_window(qtbot, tmp_path, dialogs=ScriptedDialogs(restore=True))
    assert window.offer_recovery()
    assert window.dialogs.asked == ["restore recovery-crashed.ncnet"]
    assert window.document.design == crashed
    assert window.document.path == original  # Save goes to the user's file
    assert window.isWindowModified()  # restored work is not saved yet
    assert not leftover.exists()
    assert window.autosaver.path.exists()  # protected again at once
    assert find_recoveries(tmp_path / "recovery") == []


def test_declined_recovery_is_deleted(qtbot, tmp_path):
    leftover = write_crash_leftover(tmp_path / "recovery", load_template("gan"))
    window = make_window(qtbot, tmp_path, dialogs=ScriptedDialogs(restore=False))
    assert not window.offer_recovery()
    assert window.document.design == load_template("cnn")
    assert not leftover.exists()


def test_damaged_recovery_is_reported_and_kept_aside(qtbot, tmp_path):
    leftover = write_crash_leftover(tmp_path / "recovery", load_template("gan"))
    leftover.write_text("{ damaged")
    window = make_window(qtbot, tmp_path, dialogs=ScriptedDialogs(restore=True))
    assert not window.offer_recovery()
    assert window.dialogs.errors[0][0] == "Cannot restore"
    assert leftover.with_suffix(".damaged").exists()
    assert find_recoveries(tmp_path / "recovery") == []


def test_saving_and_closing_delete_the_recovery_file(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path, dialogs=ScriptedDialogs(save_path=tmp_path / "a"))
    edit(window.document)
    window.autosaver.save_now()
    assert window.autosaver.path.exists()
    assert window.save()
    assert not window.autosaver.path.exists()
    edit(window.document, 5)
    window.autosaver.save_now()
    window.dialogs.unsaved_answer = "discard"
    assert window.close()
    assert not window.autosaver.path.exists()
    assert list((tmp_path / "recovery").glob("recovery-*")) == []
    saved = load_design(tmp_path / "a.ncnet")
    assert saved.node(saved.find("conv1")).params["out_channels"] == 4
