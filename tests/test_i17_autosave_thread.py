"""The timer's autosave encodes and writes on a writer thread, from a snapshot taken on the GUI
thread: the window never waits for the disk, one write runs at a time, and nothing is lost or
brought back when the file is written at once, deleted or the session ends."""

import threading

import pytest
import shiboken6

from designer import autosave
from designer.autosave import Autosaver
from designer.document import DesignDocument
from designer.undo_commands import SetParams
from engine import load_design
from templates import load_template


def edit(document, value):
    document.push(SetParams(document.design, document.design.find("conv1"),
                            {"out_channels": value}))


class HeldWrites:
    """save_description held until released, recording the thread each write ran on."""

    def __init__(self, monkeypatch) -> None:
        self.threads: list[threading.Thread] = []
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()
        real = autosave.save_description

        def held(description, path):
            self.threads.append(threading.current_thread())
            self.entered.release()
            assert self.release.wait(10), "the test never released the write"
            real(description, path)

        monkeypatch.setattr(autosave, "save_description", held)

    def release_once_entered(self) -> threading.Thread:
        """Release the held write from another thread as soon as it is under way (the GUI
        thread is about to wait for it)."""
        def release():
            self.entered.acquire(timeout=10)
            self.release.set()
        helper = threading.Thread(target=release)
        helper.start()
        return helper


@pytest.fixture
def saver(qtbot, tmp_path):
    document = DesignDocument(load_template("cnn"))
    saver = Autosaver(document, tmp_path, interval_ms=60_000)  # ticks only when a test asks
    yield saver
    saver.close()
    # deleted now, on the GUI thread: left to the cyclic garbage collector, they went at
    # whatever allocation set it off, inside another test's event processing (a segfault)
    shiboken6.delete(saver)
    shiboken6.delete(document)


def conv1_channels(path) -> int:
    design = load_design(path)
    return design.node(design.find("conv1")).params["out_channels"]


def test_the_timers_write_runs_off_the_gui_thread_one_at_a_time(qtbot, saver, monkeypatch):
    held = HeldWrites(monkeypatch)
    edit(saver.document, 4)
    saver.save_if_changed()  # returns while the write is held
    assert saver.writing and held.entered.acquire(timeout=10)
    assert held.threads[0] is not threading.main_thread()
    edit(saver.document, 5)  # the snapshot already taken is what is being written
    saver.save_if_changed()
    assert len(held.threads) == 1  # never two writes at once
    held.release.set()
    qtbot.waitUntil(lambda: not saver.writing)
    assert conv1_channels(saver.path) == 4
    saver.save_if_changed()  # the next tick writes the edit made meanwhile
    qtbot.waitUntil(lambda: len(held.threads) == 2 and not saver.writing)
    assert conv1_channels(saver.path) == 5 and saver.last_error is None


def test_ending_the_session_waits_for_the_write_and_keeps_the_last_edit(saver, monkeypatch):
    held = HeldWrites(monkeypatch)
    edit(saver.document, 4)
    saver.save_if_changed()
    edit(saver.document, 6)
    helper = held.release_once_entered()
    saver.keep_for_next_start()  # as the app does when it is ended from outside
    helper.join()
    assert not saver.writing and saver.keeps_unsaved_work
    assert conv1_channels(saver.path) == 6


def test_a_write_under_way_cannot_bring_back_a_deleted_recovery_file(saver, monkeypatch):
    held = HeldWrites(monkeypatch)
    edit(saver.document, 4)
    saver.save_if_changed()
    helper = held.release_once_entered()
    saver.document.undo_stack.setClean()  # as a save does: the recovery file goes
    helper.join()
    assert not saver.writing
    assert not saver.path.exists() and not saver.path.with_suffix(".json").exists()


def test_a_failed_background_write_is_announced_and_tried_again(qtbot, saver, monkeypatch):
    def refuse(description, path):
        raise OSError("disk full")

    monkeypatch.setattr(autosave, "save_description", refuse)
    edit(saver.document, 4)
    with qtbot.waitSignal(saver.errorChanged) as announced:
        saver.save_if_changed()
    assert "disk full" in announced.args[0]
    monkeypatch.undo()
    with qtbot.waitSignal(saver.errorChanged) as cleared:
        saver.save_if_changed()
    assert cleared.args == [""] and conv1_channels(saver.path) == 4


def test_a_saver_deleted_while_its_write_is_under_way_is_not_touched_by_it(
        qtbot, tmp_path, monkeypatch, caplog):
    """The writer thread touches no Qt object: a write that ends after its window (and its
    saver) went finishes its file and calls nothing on the deleted saver."""
    held = HeldWrites(monkeypatch)
    document = DesignDocument(load_template("cnn"))
    saver = Autosaver(document, tmp_path, interval_ms=60_000)
    edit(document, 4)
    saver.save_if_changed()
    assert held.entered.acquire(timeout=10)
    writer, path = saver._writer, saver.path
    shiboken6.delete(saver)   # as a window deleted with its children
    held.release.set()
    writer.shutdown(wait=True)   # the write and anything its thread does after it are over
    assert conv1_channels(path) == 4
    assert "exception calling callback" not in caplog.text
    shiboken6.delete(document)
