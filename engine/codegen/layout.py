"""The layout of an exported file, by ruff itself: imports sorted (`ruff check --select I
--fix`), then `ruff format`, both with ruff's default settings (88 columns, double quotes), and
a trailing comma in every bracket it split (`--select COM812 --fix`).

The generator writes one statement per line and leaves quotes, line breaks and import order
to the formatter, so exported files look as a person's ruff-formatted code looks. The ruff
version is pinned in pyproject.toml, so a new ruff release cannot change exported files.
"""

from __future__ import annotations

import subprocess
import tempfile

from ruff.__main__ import find_ruff_bin

from engine.errors import DesignError

LINE_LENGTH = 88  # ruff's default, for the text the generator wraps itself (docstrings)
_TIMEOUT_S = 60


def format_source(code: str) -> str:
    """`code` with its imports sorted and merged and laid out as `ruff format` lays it out.

    Ruff runs with `--isolated` (no configuration file is read) in an empty folder (nothing
    there passes for a first-party module), so the result depends on the code alone."""
    sorted_imports = _ruff("check", "--select", "I", "--fix", "--exit-zero", source=code)
    formatted = _ruff("format", source=sorted_imports)
    # A bracket the formatter split keeps a trailing comma, so the file reads the same under a
    # user's own ruff or black at any line length (the comma is "magic": it holds the split).
    with_commas = _ruff("check", "--select", "COM812", "--fix", "--exit-zero", source=formatted)
    return formatted if with_commas == formatted else _ruff("format", source=with_commas)


def _ruff(*arguments: str, source: str) -> str:
    with tempfile.TemporaryDirectory(prefix="neuralcanvas-ruff-") as folder:
        try:
            command = [find_ruff_bin(), *arguments, "--isolated", "--quiet", "-"]
            result = subprocess.run(command, input=source, capture_output=True, text=True,
                                    encoding="utf-8", cwd=folder, timeout=_TIMEOUT_S,
                                    check=False)
        except (OSError, subprocess.TimeoutExpired) as err:
            raise DesignError(f"the code formatter ruff could not run ({err})") from None
    if result.returncode != 0:  # a bug in the generator: ruff formats any valid Python
        raise DesignError(f"internal error: ruff {arguments[0]} refused the generated code: "
                          f"{result.stderr.strip()[:500]}")
    return result.stdout
