"""Layer parameters that name files (a Backbone's weights file).

Such a path is read against the design file's folder when it is relative, as data paths are
(engine.training.data_paths), so a design and its files can move together and open the same
from any working folder. A file can appear, change or vanish between two checks without any
edit to the design, so what the check remembers of a node includes each file's state.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from engine.layers.base import LayerSpec


def anchored_path(value: object, folder: Path) -> str | None:
    """`value` made absolute against `folder` when it is a relative path, else None: how every
    path a design names (data files, weights files) is read."""
    if not isinstance(value, str) or not value:
        return None
    path = Path(value).expanduser()
    return None if path.is_absolute() else str(Path(folder) / path)


def anchored(spec: LayerSpec, params: dict[str, Any], folder: Path | None) -> dict[str, Any]:
    """`params` with each relative file path made absolute against `folder` (unchanged when
    the design has no folder yet, or names no file)."""
    changes = {name: path for name in (spec.files if folder is not None else ())
               if (path := anchored_path(params.get(name), folder)) is not None}
    return {**params, **changes} if changes else params


def files_state(spec: LayerSpec, params: dict[str, Any]) -> tuple:
    """(path, size, modification time) of each file the parameters name, None for the size
    and time of one that is not there: what changes when a file does."""
    state = []
    for name in spec.files:
        path = params.get(name)
        try:
            found = os.stat(Path(path).expanduser()) if path else None
        except (OSError, ValueError):
            found = None
        state.append((path, found and found.st_size, found and found.st_mtime_ns))
    return tuple(state)
