"""Shared helpers for the main-window tests: a window whose dialogs are answered by the test."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from designer.document import DesignDocument
from designer.main_window import MainWindow
from designer.settings import AppSettings
from engine import Design
from templates import load_template


@dataclass
class ScriptedDialogs:
    """Stands in for designer.panels.dialogs.Dialogs: prepared answers, and a log of questions."""

    unsaved_answer: str = "discard"
    open_path: Path | None = None
    save_path: Path | None = None
    restore: bool = True
    template: Design | None = None
    asked: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def ask_unsaved(self, name: str) -> str:
        self.asked.append(f"unsaved {name}")
        return self.unsaved_answer

    def ask_open_path(self, folder: Path) -> Path | None:
        self.asked.append("open")
        return self.open_path

    def ask_save_path(self, suggested: Path, title: str = "", file_filter: str = "") -> Path | None:
        self.asked.append(f"save {suggested.name}")
        return self.save_path

    def show_error(self, title: str, message: str) -> None:
        self.errors.append((title, message))

    def ask_restore(self, recovery) -> bool:
        self.asked.append(f"restore {recovery.design_path.name}")
        return self.restore

    def choose_template(self) -> Design | None:
        self.asked.append("template")
        return self.template


def make_window(qtbot, tmp_path: Path, template: str = "cnn",
                dialogs: ScriptedDialogs | None = None) -> MainWindow:
    """A main window with its own settings file and recovery folder under tmp_path."""
    window = MainWindow(DesignDocument(load_template(template)),
                        AppSettings(tmp_path / "settings.ini"), None, tmp_path / "recovery",
                        dialogs or ScriptedDialogs())
    qtbot.addWidget(window)
    return window
