"""Paths read from a run's own files (summary.json, a checkpoint's record.json) stay inside
the run's folder: such a file is data that anyone could have edited, so a path in it is read
against the folder and refused when it leads anywhere else (an absolute path elsewhere, `..`,
a link out), rather than letting a run folder point the weight loader at any file.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.errors import DesignError
from engine.quoting import excerpt


def path_inside(folder: Path, value: object, source: Path) -> Path:
    """`value`, a path that the file `source` names, as a path inside `folder` (relative
    paths are read against it); a DesignError naming `source` when it leads outside."""
    if not isinstance(value, str) or not value:
        raise DesignError(f"{source} names {excerpt(value)} where a file's path belongs; the "
                          "run's files were changed by hand")
    root = Path(folder).resolve()
    path = (root / value).resolve()
    if not path.is_relative_to(root):
        named = Path(os.path.normpath(root / value))
        where = (f"{excerpt(value)}, a link to {path}" if named.is_relative_to(root)
                 else excerpt(value))
        raise DesignError(f"{source} points at {where}, outside {folder}; a run only reads "
                          "files in its own folder (was the folder edited by hand?)")
    return path
