"""Light and dark themes: Fusion palettes, following the system, switchable from the View menu."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication
from test_app_support import make_window

from designer.theme import ThemeManager, build_palette, system_scheme


def window_lightness() -> int:
    return QApplication.palette().color(QPalette.ColorRole.Window).lightness()


@pytest.fixture
def theme(qapp):
    """A ThemeManager; the app's palette and style are put back afterwards."""
    palette, style = qapp.palette(), qapp.style().name()
    manager = ThemeManager(qapp, "light")
    yield manager
    manager.deleteLater()
    qapp.setPalette(palette)
    qapp.setStyle(style)


def test_palettes_contrast():
    for scheme in ("light", "dark"):
        palette = build_palette(scheme)
        text = palette.color(QPalette.ColorRole.Text).lightness()
        base = palette.color(QPalette.ColorRole.Base).lightness()
        assert abs(text - base) > 150, scheme
    assert build_palette("dark").color(QPalette.ColorRole.Window).lightness() < 80
    with pytest.raises(ValueError, match="unknown colour scheme"):
        build_palette("sepia")


def test_switching_modes_changes_the_application_palette(qapp, theme):
    assert qapp.style().name().lower() == "fusion"
    with pytest.raises(ValueError, match="unknown theme"):
        theme.set_mode("sepia")
    theme.set_mode("dark")
    assert theme.scheme == "dark" and window_lightness() < 80
    theme.set_mode("light")
    assert window_lightness() > 200
    theme.set_mode("system")
    assert theme.scheme == system_scheme()


def test_system_mode_follows_the_desktop(qapp, theme, monkeypatch):
    desktop = {"scheme": "light"}
    monkeypatch.setattr("designer.theme.system_scheme", lambda: desktop["scheme"])
    theme.set_mode("system")
    assert theme.scheme == "light"
    desktop["scheme"] = "dark"  # the desktop switches and Qt tells us
    QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert theme.scheme == "dark" and window_lightness() < 80
    theme.set_mode("light")  # an explicit choice wins over the system
    desktop["scheme"] = "dark"
    QGuiApplication.styleHints().colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert theme.scheme == "light"


def test_view_menu_switches_and_remembers_the_theme(qtbot, tmp_path, theme):
    window = make_window(qtbot, tmp_path)
    window.theme = theme
    window.theme_actions["dark"].trigger()
    assert theme.mode == "dark" and window_lightness() < 80
    assert window.settings.theme() == "dark"
    assert window.theme_actions["dark"].isChecked()
    assert not window.theme_actions["light"].isChecked()
    window.theme_actions["light"].trigger()
    assert window_lightness() > 200 and window.settings.theme() == "light"
