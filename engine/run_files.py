"""Writing a run folder's files so that no kill leaves one broken, and tidying after kills.

A run rewrites metrics.csv, summary.json and run.json while it may be killed at any moment
(Stop on a hung worker, a crash, `kill -9`, the app killed). Each such file is written whole
or not at all (`write_atomically`: a temporary file beside it, renamed over it), or, for a
new row of metrics.csv, appended as one line in one write, so that a kill loses at most that
line (and `engine.runs.read_metrics` skips a line that has no end).

A kill between making a temporary file and renaming it leaves the temporary file behind. Every
temporary name in a run folder starts with a dot (no reader takes it for the real file) and
ends in `.tmp` or `.partial` (`.partial.npz`); `remove_leftovers` deletes them from a run
that nobody writes any more, which the run store does when it is opened.

Paths in summary.json are relative to the run folder, so a run folder can move. A run's files
are read only when they are regular files of a run's size (`open_run_file`): a named pipe or a
link to a device put in their place would otherwise block the app, or fill its memory.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import re
import shutil
import stat
from pathlib import Path
from typing import Any, BinaryIO

from engine.fileformat import write_atomically

METRICS_FILE = "metrics.csv"
SUMMARY_FILE = "summary.json"
WEIGHT_FOLDERS = ("last", "best")
LEFTOVER = re.compile(r"^\..+\.(tmp|partial|partial\.npz)$")
_PLACES = ("", *WEIGHT_FOLDERS, "checkpoints")   # where a run's writers make temporary files
LARGEST_RUN_FILE = 256 << 20   # bytes of one of a run's own files to read; no run writes more
FULL_BELOW = 1 << 20   # free bytes under which a failed write is put down to a full disk


def open_run_file(path: Path) -> BinaryIO:
    """One of a run's own files opened for reading; an OSError naming it when it is not a
    regular file (opening a named pipe does not wait for a writer) or is larger than
    LARGEST_RUN_FILE."""
    handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    stream = os.fdopen(handle, "rb")
    found = os.fstat(handle)
    if stat.S_ISREG(found.st_mode) and found.st_size <= LARGEST_RUN_FILE:
        return stream
    stream.close()
    problem = ("is not a regular file" if not stat.S_ISREG(found.st_mode)
               else f"is larger than {LARGEST_RUN_FILE:,} bytes")
    raise OSError(errno.EINVAL, f"{path} {problem}; a run writes only regular files", str(path))


def writing_failed(path: Path, err: Exception) -> OSError:
    """What failed while writing `path` as an OSError naming it (so that the run says its
    folder cannot be written): torch and safetensors report a full disk in their own words,
    without the file or the reason, so a nearly full disk is named as such."""
    if isinstance(err, OSError) and err.filename:
        return err
    try:
        full = shutil.disk_usage(next(p for p in Path(path).parents if p.exists())).free \
            < FULL_BELOW
    except (OSError, StopIteration):
        full = False
    if full or (isinstance(err, OSError) and err.errno == errno.ENOSPC):
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
    return OSError(getattr(err, "errno", None) or errno.EIO,
                   f"{type(err).__name__}: {err}", str(path))


def read_run_text(path: Path) -> str:
    """The text of one of a run's own files (see `open_run_file`): UnicodeError when it is
    not UTF-8."""
    with open_run_file(path) as stream:
        data = stream.read(LARGEST_RUN_FILE + 1)
    if len(data) > LARGEST_RUN_FILE:   # it grew since it was opened
        raise OSError(errno.EFBIG, f"{path} is larger than {LARGEST_RUN_FILE:,} bytes",
                      str(path))
    return data.decode("utf-8")


def metrics_columns(rows: list[dict[str, Any]]) -> list[str]:
    """Every key any row has, in the order they first appear."""
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    return columns


def write_metrics(folder: Path, rows: list[dict[str, Any]]) -> list[str]:
    """metrics.csv from all `rows` (one per epoch), written whole; returns its columns."""
    columns = metrics_columns(rows) or ["epoch"]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(rows)
    write_atomically(Path(folder) / METRICS_FILE, text.getvalue(), durable=False)
    return columns


def add_metrics_row(folder: Path, rows: list[dict[str, Any]],
                    columns: list[str] | None = None) -> list[str]:
    """metrics.csv after the epoch `rows[-1]` was added: that one line appended (in a single
    write) when the file's header already has its columns, else the whole file rewritten.
    The header is read (unless the caller gives `columns`, which this returned last time)
    rather than the history scanned, so an epoch costs the same at 10 or 10,000 epochs.
    Returns the file's columns."""
    path = Path(folder) / METRICS_FILE
    if columns is None and len(rows) > 1:
        columns = _header(path)
    if columns is None or any(key not in columns for key in rows[-1]):
        return write_metrics(folder, rows)
    line = io.StringIO()
    csv.DictWriter(line, fieldnames=columns, restval="").writerow(rows[-1])
    try:
        with open(path, "a", newline="", encoding="utf-8") as stream:
            stream.write(line.getvalue())
    except OSError as err:
        raise writing_failed(path, err) from err
    return columns


def _header(path: Path) -> list[str] | None:
    """The column names of a metrics file's first line (None when there is no file)."""
    try:
        with open_run_file(path) as stream:
            first = stream.readline().decode("utf-8")
    except (OSError, UnicodeError):
        return None
    return next(csv.reader([first]), None)


def write_summary(folder: Path, summary: dict[str, Any]) -> None:
    """summary.json, written whole; `summary["weights"]` maps networks to files in `folder`,
    written relative to it."""
    folder = Path(folder)
    weights = {network: Path(path).relative_to(folder).as_posix()
               for network, path in summary.get("weights", {}).items()}
    write_atomically(folder / SUMMARY_FILE, json.dumps({**summary, "weights": weights},
                                                       indent=1), durable=False)


def stored_weight_path(value: object) -> object:
    """A weights path as summary.json holds it, made relative to the run folder: older runs
    wrote absolute paths, always `<run folder>/last|best/<file>`, and the run folder may have
    moved since, so such a path means the same file in the folder where the run is now.
    Anything else is returned as it is (and refused by `path_inside` if it leads outside)."""
    if isinstance(value, str) and os.path.isabs(value):
        path = Path(value)
        if path.parent.name in WEIGHT_FOLDERS:
            return f"{path.parent.name}/{path.name}"
    return value


def remove_leftovers(folder: Path) -> None:
    """Delete the temporary files and folders killed writers left in a run folder. Only for a
    run that nobody writes any more: a live writer's file would vanish under it."""
    for place in _PLACES:
        directory = Path(folder) / place
        if not directory.is_dir():
            continue
        for path in directory.iterdir():
            if not LEFTOVER.match(path.name):
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def process_gone(pid: object) -> bool:
    """Whether the process `pid` (as a run's record holds it) has ended. Where the system
    cannot tell without side effects (Windows), or the record has no pid, it counts as alive."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0 or os.name != "posix":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:   # another user's process: it exists
        return False
    return False
