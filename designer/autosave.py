"""Crash recovery: unsaved work is written to a recovery file in the app's data folder.

Each running window owns one recovery file and holds a QLockFile beside it. A recovery file
whose lock can be taken belongs to a session that ended without cleaning up (a crash), so the
next start offers it. The user's own file is never written by autosave. When the app is ended
from outside (SIGTERM, logout), unsaved work is kept the same way instead of asking.

The timer's saves take a snapshot of the design on the GUI thread (consistent, a few ms) and
leave encoding and writing it (hundreds of ms on a large design and a busy disk) to one
writer thread: one write at a time, and every write done before the file is deleted, written
at once or the session ends.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer, Signal
from PySide6.QtWidgets import QLabel, QWidget

from designer.document import DesignDocument
from designer.theme import ERROR_STYLE
from designer.timers import make_timer
from engine import Design, DesignError, load_design
from engine.fileformat import save_description, write_atomically

RECOVERY_PREFIX = "recovery-"
WRITE_WATCH_MS = 20   # how often the GUI thread looks whether a timer's write has ended


def default_recovery_dir() -> Path:
    """The app's data folder (QStandardPaths.AppDataLocation) / recovery."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "recovery"


@dataclass(frozen=True)
class Recovery:
    """A recovery file left behind by a session that did not end cleanly."""

    design_path: Path
    original: Path | None
    saved_at: datetime

    def load(self) -> Design:
        return load_design(self.design_path)

    def discard(self) -> None:
        for path in _session_files(self.design_path):
            path.unlink(missing_ok=True)


def find_recoveries(directory: Path) -> list[Recovery]:
    """Recovery files whose session is gone, newest first."""
    found = []
    for design_path in sorted(Path(directory).glob(f"{RECOVERY_PREFIX}*.ncnet")):
        lock = QLockFile(str(design_path.with_suffix(".lock")))
        lock.setStaleLockTime(0)  # a lock is stale only when its owner has died
        if not lock.tryLock(0):
            continue  # a running window owns it
        lock.unlock()
        found.append(_read_recovery(design_path))
    return sorted(found, key=lambda r: r.saved_at, reverse=True)


def _read_recovery(design_path: Path) -> Recovery:
    original, saved_at = None, datetime.fromtimestamp(design_path.stat().st_mtime)
    try:
        info = json.loads(design_path.with_suffix(".json").read_text(encoding="utf-8"))
        original = Path(info["original"]) if info.get("original") else None
        saved_at = datetime.fromisoformat(info["saved_at"])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # the design file alone is enough to restore
    return Recovery(design_path, original, saved_at)


def _session_files(design_path: Path) -> list[Path]:
    return [design_path, design_path.with_suffix(".json"), design_path.with_suffix(".lock")]


class Autosaver(QObject):
    """Writes the document to this session's recovery file every `interval_ms` while dirty.

    A failed write is never raised (autosave is a backup) but is announced by `errorChanged`
    with the reason, and again with "" once a write succeeds, so the window can tell the user
    their work is unprotected for as long as it is."""

    errorChanged = Signal(str)

    def __init__(self, document: DesignDocument, directory: Path, interval_ms: int = 30_000,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{RECOVERY_PREFIX}{uuid.uuid4().hex}.ncnet"
        self._lock = QLockFile(str(self.path.with_suffix(".lock")))
        self._lock.setStaleLockTime(0)  # only a dead owner makes the lock stale
        self._lock.tryLock(0)
        self._changed = False
        self.keeps_unsaved_work = False
        self.last_error: str | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autosave")
        self._writing: Future | None = None
        # the GUI thread looks for the end of a write: the writer thread touches no Qt
        # object, so a write that ends as a window goes cannot reach a deleted one
        self._write_watch = make_timer(self, WRITE_WATCH_MS, self._on_written)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_if_changed)
        self.timer.start()
        document.undo_stack.indexChanged.connect(self._on_edit)
        document.undo_stack.cleanChanged.connect(self._on_clean_changed)

    def _on_edit(self, _index: int) -> None:
        self._changed = True

    def _on_clean_changed(self, clean: bool) -> None:
        if clean and not self.keeps_unsaved_work:  # the undo stack reports clean as it dies
            self.discard()

    def save_if_changed(self) -> None:
        """The timer's save, written on the writer thread; while one is being written the
        next tick writes what changed since."""
        if self._changed and not self.document.undo_stack.isClean() and not self.writing:
            self._changed = False  # edits from now on are the next write's
            self._writing = self._writer.submit(self._write, self._snapshot())
            self._write_watch.start()

    @property
    def writing(self) -> bool:
        """Whether a timer's save is still being written."""
        return self._writing is not None and not self._writing.done()

    def save_now(self) -> None:
        """Write the recovery file before returning (after any write under way); a failure is
        kept in `last_error` and announced, never raised (autosave is a backup)."""
        self.finish_writing()
        self._changed = False
        error = self._write(self._snapshot())
        self._changed = error is not None
        self._set_error(error)

    def finish_writing(self) -> None:
        """Wait for the write under way, if any, and announce how it went now (a failed one
        is tried again on the next tick)."""
        if self._writing is not None:
            error = self._writing.result()
            self._writing = None
            self._changed |= error is not None
            self._set_error(error)

    def _on_written(self) -> None:
        if self._writing is None or self._writing.done():   # None: taken by a wait meanwhile
            self._write_watch.stop()
            self.finish_writing()

    def _snapshot(self) -> tuple[dict, dict]:
        """The design and the recovery note as they are now, independent of later edits."""
        original = str(self.document.path) if self.document.path else None
        return (self.document.design.to_dict(),
                {"original": original, "saved_at": datetime.now().isoformat()})

    def _write(self, snapshot: tuple[dict, dict]) -> str | None:
        """Write a snapshot (on either thread); the error, or None."""
        description, info = snapshot
        try:
            save_description(description, self.path)
            write_atomically(self.path.with_suffix(".json"), json.dumps(info))
        except (OSError, DesignError) as err:
            return f"autosave to {self.path} failed: {err}"
        return None

    def _set_error(self, error: str | None) -> None:
        if error != self.last_error:
            self.last_error = error
            self.errorChanged.emit(error or "")

    def keep_for_next_start(self) -> None:
        """Write unsaved work to the recovery file now and keep it past `close`, so the next
        start offers it: for an app ended from outside, where asking is no use. If the write
        fails, `keeps_unsaved_work` stays False and closing asks as usual."""
        if not self.document.undo_stack.isClean():
            self.save_now()
            self.keeps_unsaved_work = self.last_error is None

    def discard(self) -> None:
        """Delete the recovery file (after a clean save, or on a clean exit). One that cannot
        be deleted (its folder gone or locked) stays for the next start to offer; it must not
        stop the save or the close that asked for this."""
        self.finish_writing()  # a write finishing later would bring the file back
        self._changed = False
        for path in _session_files(self.path)[:2]:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                continue

    def close(self) -> None:
        """End the session: lock released, and no recovery file unless it is being kept."""
        self.timer.stop()
        self.finish_writing()
        self._writer.shutdown()
        if not self.keeps_unsaved_work:
            self.discard()
        self._lock.unlock()


class AutosaveNote(QLabel):
    """A status-bar note shown while autosave fails, its reason in the tooltip; it goes away
    once a write succeeds. Non-modal: the user keeps working and can save elsewhere."""

    TEXT = "Autosave failed: unsaved work is not backed up"

    def __init__(self, autosaver: Autosaver, parent: QWidget | None = None) -> None:
        super().__init__(self.TEXT, parent)
        self.setObjectName("autosaveNote")
        self.setStyleSheet(ERROR_STYLE)
        self.setVisible(False)
        autosaver.errorChanged.connect(self._show)

    def _show(self, error: str) -> None:
        self.setToolTip(error)
        self.setAccessibleDescription(error)
        self.setVisible(bool(error))
