"""What each training setting is called on screen, so every message can name the control.

The Setup form groups the settings into sections and labels each field; messages from the
engine (failed runs, diagnostics, data checks) name a setting the same way, e.g.
"Layout (Setup > Task and data)", never by its key in the design file.
"""

from __future__ import annotations

from engine.errors import DesignError
from engine.training.settings import schema

SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Task and data", ("task", "data.", "loss")),
    ("Optimizer", ("optimizer.", "grad_clip")),
    ("Schedule", ("schedule.",)),
    ("Length", ("epochs", "batch_size", "early_stopping.", "seed", "checkpoint_every")),
    ("Device", ("device", "processes", "threads", "precision", "compile")),
    ("GAN", ("gan.",)),
    ("Diagnostics", ("diagnostics.",)))


def setting_label(path: str) -> str:
    """The form's label of a setting: 'optimizer.lr' -> 'Learning rate' (its Param's title)."""
    return schema()[path].title


def setting_section(path: str) -> str:
    """The Setup form section that shows a setting (the last one for anything unknown)."""
    for title, prefixes in SECTIONS:
        if any(path == p or (p.endswith(".") and path.startswith(p)) for p in prefixes):
            return title
    return SECTIONS[-1][0]


def setting_place(path: str) -> str:
    """A setting named as a person finds it: 'Layout (Setup > Task and data)'."""
    return f"{setting_label(path)} (Setup > {setting_section(path)})"


class SettingError(DesignError):
    """A run cannot start until the training setting `path` changes (its message names the
    setting by its label), as opposed to a problem in the networks."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
