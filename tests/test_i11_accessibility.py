"""Issue 11, Accessibility: every field, button and panel is named as it is labelled on screen,
so a screen reader (and a test) finds "Learning rate" by name."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QToolButton,
    QWidget,
)
from test_app_support import make_window

from designer.accessibility import name_widgets, visible_text

CONTROLS = (QLineEdit, QSpinBox, QComboBox, QAbstractButton)


def by_name(root: QWidget, name: str) -> list[QWidget]:
    return [w for w in root.findChildren(QWidget) if w.accessibleName() == name]


def shown_window(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    return window


def unnamed_controls(window) -> list[str]:
    """Every visible control in a dock without an accessible name, with every dock raised in
    turn and every tab of a dock's tab widgets shown."""
    missing = []
    for key, dock in window.docks.items():
        dock.raise_()
        tab_widgets = dock.findChildren(QTabWidget)
        pages = [(tabs, i) for tabs in tab_widgets for i in range(tabs.count())] or [(None, 0)]
        for tabs, index in pages:
            if tabs is not None:
                tabs.setCurrentIndex(index)
            for widget in dock.findChildren(QWidget):
                if isinstance(widget, CONTROLS) and widget.isVisible() \
                        and not widget.accessibleName().strip():
                    what = widget.text() if hasattr(widget, "text") else ""
                    missing.append(f"{key}: {type(widget).__name__} {what!r} "
                                   f"{widget.objectName()!r}")
    return sorted(set(missing))


def test_learning_rate_is_found_by_name_and_takes_typed_text(qtbot, tmp_path):
    window = shown_window(qtbot, tmp_path)
    window.docks["training"].raise_()
    found = by_name(window, "Learning rate")
    assert len(found) == 1 and isinstance(found[0], QLineEdit)
    field = found[0]
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(field, "0.01")
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert window.document.design.training["optimizer"]["lr"] == 0.01


def test_every_visible_control_in_the_docks_has_a_name(qtbot, tmp_path):
    window = shown_window(qtbot, tmp_path)
    design = window.document.design
    for layer in ("conv1", "pool"):  # the inspector rebuilds for each selection
        window.document.set_selection([design.find(layer)])
        assert unnamed_controls(window) == [], layer
    assert [d.accessibleName() for d in window.docks.values()] == \
        [d.windowTitle() for d in window.docks.values()]
    assert all(d.widget().accessibleName() == d.windowTitle() for d in window.docks.values())


def test_inspector_fields_are_named_after_their_labels(qtbot, tmp_path):
    window = shown_window(qtbot, tmp_path)
    design = window.document.design
    window.document.set_selection([design.find("pool")])
    inspector = window.inspector
    for form in inspector.widget().findChildren(QFormLayout):
        for row in range(form.rowCount()):
            label = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            if label is None or not isinstance(label.widget(), QLabel):
                continue
            text = visible_text(label.widget().text())
            if text:
                assert by_name(inspector, text) or by_name(inspector, f"{text} 1 of 2"), text
    assert by_name(inspector, "stride: None")  # the None box of an optional parameter


def test_naming_rules_for_a_plain_form(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    form = QFormLayout(host)
    line, combo = QLineEdit(), QComboBox()
    form.addRow("&Batch size:", line)
    form.addRow(QLabel("<b>Loss</b>"), combo)
    icon_only = QToolButton()
    icon_only.setText("\u2026")
    icon_only.setToolTip("Choose on disk")
    form.addRow("Data", icon_only)
    plain = QPushButton("&Train", host)
    search = QLineEdit(host)
    search.setPlaceholderText("Search layers…")
    name_widgets(host)
    assert line.accessibleName() == "Batch size" and combo.accessibleName() == "Loss"
    assert icon_only.accessibleName() == "Data: Choose on disk"
    assert plain.accessibleName() == "Train" and search.accessibleName() == "Search layers"
