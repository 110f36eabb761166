"""Starting the designer: the QApplication, its theme, and the first window.

`neuralcanvas` reopens the design file that was open when the app was last used (the `cnn`
template the first time, or when that file has gone, which the status bar says);
`neuralcanvas FILE.ncnet` opens that file (a file that cannot be read is explained in a dialog
and the template opens instead). SIGTERM and SIGINT close the window as the user would, except
that unsaved work is kept for the next start instead of asked about. Quitting ends the helper
processes at once. Torch is not imported here: the window must appear fast, so the panels
shown at start-up refresh once it has painted (designer.panels.lazy).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import designer.pyside_import_check  # noqa: F401 - first: it makes every later import cheaper

# isort: split
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from designer.document import DesignDocument
from designer.heap import settle_long_lived_objects
from designer.main_window import APP_NAME, MainWindow
from designer.panels.dialogs import Dialogs
from designer.panels.lazy import hold_refreshes, release_refreshes
from designer.resources import resource_path
from designer.settings import AppSettings
from designer.termination import TerminationSignals
from designer.theme import ThemeManager
from designer.training.jobs import shutdown_helper
from engine import Design, DesignError, load_design
from templates import load_template

DEFAULT_TEMPLATE = "cnn"
ICON_PATH = resource_path("neuralcanvas.svg")
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
    """Show a window with the file asked for, else the design open last, else the default
    template; then offer any recovery. The window keeps `settings` told which file is open."""
    if file is None:
        design, path, note = last_design(settings)
    else:
        design, path, note = load_template(DEFAULT_TEMPLATE), None, None
    window = MainWindow(DesignDocument(design, path), settings, theme, recovery_dir, dialogs)
    window.document.pathChanged.connect(settings.set_last_design)
    hold_refreshes()
    AfterFirstPaint(window, catch_up_after_first_paint)
    window.show()
    window.tabs.frame_all()
    if file is not None:
        window.open_path(file)
    if note is not None:
        window.statusBar().showMessage(note)  # no timeout: it must not pass unseen at start-up
    window.offer_recovery()
    return window


def catch_up_after_first_paint() -> None:
    """What waited for the window's first frame: the panels shown refresh (the Training
    panel's curves import pyqtgraph), then start-up's objects settle (designer.heap)."""
    release_refreshes()
    settle_long_lived_objects()


class AfterFirstPaint(QObject):
    """Calls `then` once `widget` has painted for the first time, on the next turn of the
    event loop (so that the frame is on screen first); or when it is hidden (closed) without
    having painted, so that nothing waits for a paint that will not come."""

    def __init__(self, widget: QObject, then: Callable[[], None]) -> None:
        super().__init__(widget)
        self._then = then
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Paint, QEvent.Type.Hide):
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self._then)
        return False


def last_design(settings: AppSettings) -> tuple[Design, Path | None, str | None]:
    """(design, its file, None) for the design open when the app was last used; the default
    template, no file and what went wrong when that file has gone or cannot be read (it is
    then forgotten, so the next start does not say so again); the template alone at first."""
    path = settings.last_design()
    if path is None:
        return load_template(DEFAULT_TEMPLATE), None, None
    try:
        return load_design(path), path, None
    except DesignError as err:
        settings.forget_last_design()
        note = (f"Could not reopen the last design ({str(err).splitlines()[0]}); showing the "
                f"{DEFAULT_TEMPLATE} template")
        return load_template(DEFAULT_TEMPLATE), None, note


def end_from_outside(app: QApplication) -> None:
    """SIGTERM or SIGINT: close every window through its normal shutdown, keeping unsaved
    work in its recovery file (offered at the next start) instead of asking: nobody may be
    there to answer. A window whose work cannot be kept asks as usual."""
    for widget in app.topLevelWidgets():
        if isinstance(widget, MainWindow):
            widget.autosaver.keep_for_next_start()
    app.quit()


def run_app(argv: list[str]) -> int:
    """Run the designer until its window closes; returns the exit code."""
    if len(argv) > 1:
        print(USAGE, file=sys.stderr)
        return 2
    app = application()
    settings = AppSettings()
    theme = ThemeManager(app, settings.theme())
    window = open_main_window(Path(argv[0]) if argv else None, settings, theme)
    termination = TerminationSignals(lambda: end_from_outside(app), app)
    code = app.exec()
    termination.uninstall()
    shutdown_helper()
    settings.sync()   # the launcher then ends the process without the interpreter's teardown
    del window
    return code
