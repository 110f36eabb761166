"""What the app remembers between runs: window layout, recent files, the design open last,
last folder, theme.

Everything goes through QSettings. Values are always read with `type=`, because the ini
backend hands booleans and numbers back as strings.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from designer.theme import THEME_MODES

MAX_RECENT_FILES = 10


class AppSettings:
    """Typed access to the app's QSettings; pass `path` to use an ini file of your own (tests)."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            self._store = QSettings()
        else:
            self._store = QSettings(str(path), QSettings.Format.IniFormat)

    def sync(self) -> None:
        self._store.sync()

    # ------------------------------------------------------------------ recent files
    def recent_files(self) -> list[Path]:
        """Most recent first; files that no longer exist are left out."""
        stored = self._store.value("files/recent", [], type=list)
        return [Path(p) for p in stored if isinstance(p, str) and Path(p).is_file()]

    def add_recent_file(self, path: Path) -> None:
        path = Path(path).resolve()
        others = [p for p in self.recent_files() if p.resolve() != path]
        self._store.setValue("files/recent", [str(p) for p in [path, *others][:MAX_RECENT_FILES]])

    def remove_recent_file(self, path: Path) -> None:
        path = Path(path).resolve()
        kept = [str(p) for p in self.recent_files() if p.resolve() != path]
        self._store.setValue("files/recent", kept)

    def clear_recent_files(self) -> None:
        self._store.setValue("files/recent", [])

    # ------------------------------------------------------------------ the design open last
    def last_design(self) -> Path | None:
        """The design file open when the app was last used (the next start reopens it);
        None before any design was opened or saved. It may since have gone."""
        stored = self._store.value("files/last_design", "", type=str)
        return Path(stored) if stored else None

    def set_last_design(self, path: Path | None) -> None:
        """Remember `path` for the next start; None (a new, unsaved design) keeps the previous
        file, so closing an unsaved scratch design does not forget the user's work."""
        if path is not None:
            self._store.setValue("files/last_design", str(Path(path).resolve()))

    def forget_last_design(self) -> None:
        self._store.remove("files/last_design")

    # ------------------------------------------------------------------ folders
    def last_folder(self) -> Path:
        """Where Open and Save As start: the folder used last, else the home folder."""
        folder = Path(self._store.value("files/last_folder", str(Path.home()), type=str))
        return folder if folder.is_dir() else Path.home()

    def set_last_folder(self, folder: Path) -> None:
        self._store.setValue("files/last_folder", str(folder))

    # ------------------------------------------------------------------ appearance
    def theme(self) -> str:
        mode = self._store.value("view/theme", "system", type=str)
        return mode if mode in THEME_MODES else "system"

    def set_theme(self, mode: str) -> None:
        self._store.setValue("view/theme", mode)

    # ------------------------------------------------------------------ window layout
    def window_geometry(self) -> QByteArray | None:
        value = self._store.value("window/geometry", QByteArray(), type=QByteArray)
        return value if not value.isEmpty() else None

    def window_state(self) -> QByteArray | None:
        value = self._store.value("window/state", QByteArray(), type=QByteArray)
        return value if not value.isEmpty() else None

    def set_window_layout(self, geometry: QByteArray, state: QByteArray) -> None:
        self._store.setValue("window/geometry", geometry)
        self._store.setValue("window/state", state)

    def splitter_state(self, name: str) -> QByteArray | None:
        """A splitter inside a dock (the window's state keeps only the docks' own sizes)."""
        value = self._store.value(f"window/splitters/{name}", QByteArray(), type=QByteArray)
        return value if not value.isEmpty() else None

    def set_splitter_state(self, name: str, state: QByteArray) -> None:
        self._store.setValue(f"window/splitters/{name}", state)

    # ------------------------------------------------------------------ autosave
    def autosave_seconds(self) -> int:
        """How often unsaved changes are written to the recovery file (at least 5 s)."""
        return max(5, self._store.value("files/autosave_seconds", 30, type=int))
