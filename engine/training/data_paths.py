"""Where a design's data files are: relative paths are read against the design file's folder,
so a design and its data can move together (and open the same from any working folder)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from engine.design import Design
from engine.layer_files import anchor_node_files, anchored_path
from engine.training.settings import TrainingSettings

PATH_SETTINGS = ("path", "images", "labels")  # the data settings that name files or folders


def with_design_folder(settings: TrainingSettings, folder: Path | None) -> TrainingSettings:
    """The settings with each relative data path made absolute against `folder` (the design
    file's folder); unchanged when the design has no file yet."""
    if folder is None:
        return settings
    changes = {key: anchored for key in PATH_SETTINGS
               if (anchored := anchored_path(getattr(settings.data, key), folder)) is not None}
    return settings.replace(data=replace(settings.data, **changes)) if changes else settings


def anchored_to_folder(design: Design, folder: Path | None) -> Design:
    """A copy of `design` whose relative data paths (and files its layers name) are absolute
    against `folder`: what a run, a preview or the command line trains on, whatever its
    process's working folder."""
    copy = design.copy()
    anchor_node_files(copy, folder)
    data = copy.training.get("data")
    if folder is not None and isinstance(data, dict):
        for key in PATH_SETTINGS:
            if (anchored := anchored_path(data.get(key), folder)) is not None:
                data[key] = anchored
    return copy
