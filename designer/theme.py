"""Light and dark appearance: the Fusion style with our own palettes, following the system.

Fusion draws every widget from the palette, so one palette per scheme is the whole theme;
views that paint themselves (the canvas) read the same palette and redraw on PaletteChange.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QImage, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from designer.resources import resource_path

THEME_MODES = ("system", "light", "dark")
# The one table of severity colours. Text on panels, readable on the light and the dark
# theme's backgrounds alike; tints for fills, outlines and highlights; the canvas's badges,
# per theme (dark first), brighter on a dark canvas.
SEVERITY_COLOURS = {"error": "#d64545", "warning": "#b8860b", "info": "#3d7be6"}
SEVERITY_TINTS = {"error": "#d64545", "warning": "#e0a100", "info": "#3d7be6"}
CANVAS_SEVERITY = {True: {"error": "#e5484d", "warning": "#f5c542"},
                   False: {"error": "#d1242f", "warning": "#d4a017"}}
ERROR_STYLE = f"color: {SEVERITY_COLOURS['error']};"


def coloured(html_text: str, severity: str = "error") -> str:
    """Rich text in a severity's colour (the text is already escaped or trusted)."""
    return f"<span style='color:{SEVERITY_COLOURS[severity]}'>{html_text}</span>"

_LIGHT = {
    QPalette.ColorRole.Window: "#f3f3f5",
    QPalette.ColorRole.WindowText: "#1d1d1f",
    QPalette.ColorRole.Base: "#ffffff",
    QPalette.ColorRole.AlternateBase: "#f0f1f4",
    QPalette.ColorRole.ToolTipBase: "#ffffe8",
    QPalette.ColorRole.ToolTipText: "#1d1d1f",
    QPalette.ColorRole.PlaceholderText: "#8a8a90",
    QPalette.ColorRole.Text: "#1d1d1f",
    QPalette.ColorRole.Button: "#e9e9ed",
    QPalette.ColorRole.ButtonText: "#1d1d1f",
    QPalette.ColorRole.BrightText: "#d0021b",
    QPalette.ColorRole.Light: "#ffffff",
    QPalette.ColorRole.Midlight: "#e3e3e8",
    QPalette.ColorRole.Mid: "#b9b9c0",
    QPalette.ColorRole.Dark: "#9a9aa2",
    QPalette.ColorRole.Shadow: "#6b6b72",
    QPalette.ColorRole.Highlight: "#2f6fde",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#1f5fc8",
    QPalette.ColorRole.LinkVisited: "#6b3fb5",
}

_DARK = {
    QPalette.ColorRole.Window: "#2b2d31",
    QPalette.ColorRole.WindowText: "#e6e6e9",
    QPalette.ColorRole.Base: "#1e1f22",
    QPalette.ColorRole.AlternateBase: "#26282c",
    QPalette.ColorRole.ToolTipBase: "#3a3d42",
    QPalette.ColorRole.ToolTipText: "#e6e6e9",
    QPalette.ColorRole.PlaceholderText: "#8c8f96",
    QPalette.ColorRole.Text: "#e6e6e9",
    QPalette.ColorRole.Button: "#35373c",
    QPalette.ColorRole.ButtonText: "#e6e6e9",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Light: "#4a4d53",
    QPalette.ColorRole.Midlight: "#3f4247",
    QPalette.ColorRole.Mid: "#2f3136",
    QPalette.ColorRole.Dark: "#1a1b1e",
    QPalette.ColorRole.Shadow: "#000000",
    QPalette.ColorRole.Highlight: "#3d7be6",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#7aa7ff",
    QPalette.ColorRole.LinkVisited: "#b58cff",
}

# Disabled widgets: text and buttons fade towards the window colour.
_DISABLED_TEXT = {"light": "#a0a0a6", "dark": "#6c6f76"}


def build_palette(scheme: str) -> QPalette:
    """The palette of the "light" or "dark" scheme."""
    if scheme not in ("light", "dark"):
        raise ValueError(f"unknown colour scheme {scheme!r}; use 'light' or 'dark'")
    palette = QPalette()
    for role, colour in (_DARK if scheme == "dark" else _LIGHT).items():
        palette.setColor(role, QColor(colour))
    faded = QColor(_DISABLED_TEXT[scheme])
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text,
                 QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, faded)
    return palette


def system_scheme() -> str:
    """What the desktop asks for: "dark" or "light" (light when the platform does not say)."""
    hints = QGuiApplication.styleHints()
    scheme = hints.colorScheme() if hasattr(hints, "colorScheme") else Qt.ColorScheme.Unknown
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


class ThemeManager(QObject):
    """Applies the chosen mode ("system", "light" or "dark") and keeps following the system."""

    schemeChanged = Signal(str)  # the scheme now in effect: "light" or "dark"

    def __init__(self, app: QApplication, mode: str = "system") -> None:
        super().__init__(app)
        self._app = app
        self._mode = "system"
        self._scheme = ""
        app.setStyle("Fusion")
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            hints.colorSchemeChanged.connect(self._on_system_scheme)
        self.set_mode(mode)

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def scheme(self) -> str:
        return self._scheme

    def set_mode(self, mode: str) -> None:
        if mode not in THEME_MODES:
            raise ValueError(f"unknown theme {mode!r}; choose one of {', '.join(THEME_MODES)}")
        self._mode = mode
        self._apply(system_scheme() if mode == "system" else mode)

    def _on_system_scheme(self, _scheme: Qt.ColorScheme) -> None:
        if self._mode == "system":
            self._apply(system_scheme())

    def _apply(self, scheme: str) -> None:
        if scheme == self._scheme:
            return
        self._scheme = scheme
        self._app.setPalette(build_palette(scheme))
        self.schemeChanged.emit(scheme)


ICON_DIR = resource_path("icons")
ICON_INK = "#000000"  # the stroke colour the SVG files are drawn in, replaced by the palette's
ICON_SIZES = (16, 20, 24, 32, 48)


def themed_icon(name: str, palette: QPalette, device_pixel_ratio: float = 1.0) -> QIcon:
    """One of our SVG icons drawn in the palette's text colour (and faded when disabled)."""
    source = (ICON_DIR / f"{name}.svg").read_text(encoding="utf-8")
    icon = QIcon()
    for mode, group in ((QIcon.Mode.Normal, QPalette.ColorGroup.Active),
                        (QIcon.Mode.Disabled, QPalette.ColorGroup.Disabled)):
        ink = palette.color(group, QPalette.ColorRole.WindowText).name()
        renderer = QSvgRenderer(QByteArray(source.replace(ICON_INK, ink).encode("utf-8")))
        for size in ICON_SIZES:
            pixels = round(size * device_pixel_ratio)
            image = QImage(pixels, pixels, QImage.Format.Format_ARGB32_Premultiplied)
            image.fill(Qt.GlobalColor.transparent)
            painter = QPainter(image)
            renderer.render(painter)
            painter.end()
            pixmap = QPixmap.fromImage(image)
            pixmap.setDevicePixelRatio(device_pixel_ratio)
            icon.addPixmap(pixmap, mode)
    return icon
