"""Accessibility, judged on the dialogs: File > Export, Design Properties, Import, About, the
user guide and the shortcut sheet are built when opened, after the window named its widgets;
each input and button in them still gets the accessible name of its visible label."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QDialog,
    QLineEdit,
)
from test_app_support import make_window

CONTROLS = (QLineEdit, QAbstractButton, QComboBox, QAbstractSpinBox)


def opened_dialog(qtbot, window, action: str) -> QDialog:
    before = set(window.findChildren(QDialog))
    window.actions_by_name[action].trigger()
    qtbot.waitUntil(lambda: any(d.isVisible() for d in set(window.findChildren(QDialog))
                                - before), timeout=3000)
    [dialog] = [d for d in set(window.findChildren(QDialog)) - before if d.isVisible()]
    return dialog


def names(dialog: QDialog) -> dict[str, str]:
    """Each visible control's accessible name, by its type and visible text."""
    found = {}
    for kind in CONTROLS:
        for widget in dialog.findChildren(kind):
            if widget.isVisible():
                text = widget.text() if isinstance(widget, QAbstractButton) else ""
                found[f"{type(widget).__name__} {text}".strip()] = widget.accessibleName()
    return found


@pytest.mark.parametrize("action", ["export", "properties", "import", "about", "guide",
                                    "shortcuts"])
def test_every_control_of_a_dialog_is_named(qtbot, tmp_path, action):
    window = make_window(qtbot, tmp_path, "autoencoder")
    window.show()
    qtbot.waitExposed(window)
    dialog = opened_dialog(qtbot, window, action)
    found = names(dialog)
    assert found and all(found.values()), found
    dialog.close()


def test_export_dialog_names_match_the_labels(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path, "transformer")
    window.show()
    qtbot.waitExposed(window)
    dialog = opened_dialog(qtbot, window, "export")
    found = names(dialog)
    assert found["QPushButton Export"] == "Export" and found["QPushButton Cancel"] == "Cancel"
    assert found["QRadioButton Python script (.py)"] == "Format: Python script (.py)"
    assert dialog.file.accessibleName() == "File"
    dialog.close()
