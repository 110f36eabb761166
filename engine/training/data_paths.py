"""Where a design's data files are: relative paths are read against the design file's folder,
so a design and its data can move together (and open the same from any working folder)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from engine.design import Design
from engine.layer_files import anchored, anchored_path
from engine.layers import get_layer
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
    return Design.from_dict(anchored_description(design, folder))


def anchored_description(design: Design, folder: Path | None) -> dict[str, Any]:
    """`design.to_dict()` with the paths `anchored_to_folder` anchors made absolute, made
    without copying the design: the editor sends this to its helper after each pause in
    editing, and a copy of a 1,094-node design cost five times the description itself."""
    description = design.to_dict()
    if folder is None:
        return description
    scopes = [*description["networks"].values(), *description.get("blocks", {}).values()]
    for node in (node for scope in scopes for node in scope["nodes"]):
        node["params"] = anchored(get_layer(node["type"]), node["params"], folder)
    data = description["training"].get("data")
    if isinstance(data, dict):
        for key in PATH_SETTINGS:
            if (path := anchored_path(data.get(key), folder)) is not None:
                data[key] = path
    return description
