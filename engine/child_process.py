"""The app's helper processes live exactly as long as the app, and hold no more than they need.

The worker (and, while a run goes, the spare process for background jobs) holds 400 MB or more
of its own (torch, data, models). If the app is killed (`kill -9`, a crash, the terminal
closed) nobody asks them to quit, so each one watches its parent itself:

- on Linux the kernel sends SIGKILL the moment the parent dies (`PR_SET_PDEATHSIG`);
- everywhere, a thread waits on the parent's multiprocessing sentinel (a pipe on POSIX, a
  process handle on Windows) and ends the process when it fires.

Ctrl+C in a terminal reaches the whole process group; it is meant for the app, which then
ends its children itself, so children ignore SIGINT.
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable

PR_SET_PDEATHSIG = 1          # from <linux/prctl.h>
EXIT_PARENT_GONE = 70


def tie_to_parent() -> None:
    """Call first thing in a child process started by multiprocessing (spawn)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        _ask_kernel_to_kill_with_parent()
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_when_gone, args=(parent,), name="parent-watch",
                         daemon=True).start()


def _ask_kernel_to_kill_with_parent() -> None:
    """PR_SET_PDEATHSIG: the signal comes when the thread that started this process ends;
    the app starts its children from its main (GUI) thread, which lives as long as the app.
    Without it (an unusual libc) the watch thread still ends the process."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _exit_when_gone(parent: multiprocessing.process.BaseProcess) -> None:
    parent.join()   # returns when the parent's end of the sentinel closes: the parent died
    os._exit(EXIT_PARENT_GONE)


def give_back_memory() -> None:
    """Call after each job: a finished job's models and data are freed now (a trainer holds
    reference cycles that would otherwise wait for a later collection), and on glibc the freed
    heap goes back to the system (`malloc_trim`), which free() alone rarely does: without it
    an idle helper stays as large as its biggest job made it."""
    gc.collect()
    if _malloc_trim is not None:
        _malloc_trim(0)


def _find_malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):   # not glibc (macOS, Windows, musl)
        return None


_malloc_trim = _find_malloc_trim()
