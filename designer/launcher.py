"""The `neuralcanvas` command: engine sub-commands headless, otherwise the GUI."""

from __future__ import annotations

import sys
from collections.abc import Sequence


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
    return run_app(argv)


if __name__ == "__main__":
    sys.exit(main())
