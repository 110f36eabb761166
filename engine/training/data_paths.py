"""Where a design's data files are: relative paths are read against the design file's folder,
so a design and its data can move together (and open the same from any working folder)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from engine.training.settings import TrainingSettings

PATH_SETTINGS = ("path", "images", "labels")  # the data settings that name files or folders


def with_design_folder(settings: TrainingSettings, folder: Path | None) -> TrainingSettings:
    """The settings with each relative data path made absolute against `folder` (the design
    file's folder); unchanged when the design has no file yet."""
    if folder is None:
        return settings
    changes = {}
    for key in PATH_SETTINGS:
        value = getattr(settings.data, key)
        if value is not None and not Path(value).expanduser().is_absolute():
            changes[key] = str(Path(folder) / Path(value).expanduser())
    return settings.replace(data=replace(settings.data, **changes)) if changes else settings
