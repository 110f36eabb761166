"""Starting the designer: the QApplication, its theme, and the first window.

`neuralcanvas` opens the `cnn` template ready to train; `neuralcanvas FILE.ncnet` opens that
file (a file that cannot be read is explained in a dialog and the template opens instead).
Torch is not imported here: the window must appear fast.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from designer.document import DesignDocument
from designer.main_window import APP_NAME, MainWindow
from designer.panels.dialogs import Dialogs
from designer.settings import AppSettings
from designer.theme import ThemeManager
from templates import load_template

DEFAULT_TEMPLATE = "cnn"
ICON_PATH = Path(__file__).resolve().parent / "resources" / "neuralcanvas.svg"
USAGE = "usage: neuralcanvas [FILE.ncnet]   (or `neuralcanvas --help` for the commands)"


def application() -> QApplication:
    """The running QApplication, created and named on first use (settings and data paths
    depend on the names)."""
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else APP_NAME])
    QCoreApplication.setOrganizationName(APP_NAME)
    QCoreApplication.setApplicationName(APP_NAME)
    app.setWindowIcon(QIcon(str(ICON_PATH)))
    return app


def open_main_window(file: Path | None, settings: AppSettings, theme: ThemeManager | None,
                     recovery_dir: Path | None = None,
                     dialogs: Dialogs | None = None) -> MainWindow:
    """Show a window with the default template, then the file asked for, then any recovery."""
    window = MainWindow(DesignDocument(load_template(DEFAULT_TEMPLATE)), settings, theme,
                        recovery_dir, dialogs)
    window.show()
    window.tabs.frame_all()
    if file is not None:
        window.open_path(file)
    window.offer_recovery()
    return window


def run_app(argv: list[str]) -> int:
    """Run the designer until its window closes; returns the exit code."""
    if len(argv) > 1:
        print(USAGE, file=sys.stderr)
        return 2
    app = application()
    settings = AppSettings()
    theme = ThemeManager(app, settings.theme())
    window = open_main_window(Path(argv[0]) if argv else None, settings, theme)
    code = app.exec()
    del window
    return code
