"""The `neuralcanvas` command: engine sub-commands headless, otherwise the GUI."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import NoReturn


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from engine import cli
    if argv and (argv[0] in cli.command_names() or argv[0].startswith("-")):
        return cli.main(argv)
    from designer.qt_platform_check import platform_problem
    problem = platform_problem()  # before Qt, which would abort without naming the libraries
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    try:
        from designer.app import run_app
    except ImportError as err:
        print(f"the designer cannot start: {err}", file=sys.stderr)
        return 1
    leave(run_app(argv))


def leave(code: int) -> NoReturn:
    """End the process the moment the window has closed. By then the settings are synced,
    unsaved work is kept and the worker and helper processes have ended; what remains is the
    interpreter's teardown, which destroys every Qt object and module one by one and held a
    quit up for most of a second. Buffered output is flushed first."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
