"""Accessible names from what the user sees, so screen readers (and tests) find "Learning rate".

One rule set, applied to any widget tree: a form row's label names the inputs in its field;
a button is named by its text, its action's text or its tooltip; a line edit without a label
by its placeholder; a dock, group box and the panel inside a dock by their titles. Names set
in code are kept, except that form rows always follow their label.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QDialog,
    QDockWidget,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLayout,
    QLineEdit,
    QMainWindow,
    QToolButton,
    QWidget,
)

INPUTS = (QLineEdit, QAbstractSpinBox, QComboBox)
_TAGS = re.compile(r"<[^>]+>")


def visible_text(text: str) -> str:
    """A label's or button's text as read aloud: no markup, mnemonics, trailing colon or
    ellipsis ("Export…" is read "Export")."""
    plain = _TAGS.sub("", text).replace("&&", "\0").replace("&", "").replace("\0", "&")
    plain = " ".join(plain.split()).rstrip(":").strip()
    return plain.removesuffix("\u2026").removesuffix("...").strip() or plain


def _widgets_in(item_widget: QWidget | None, item_layout: QLayout | None) -> list[QWidget]:
    """The widget of a layout item (and its descendants), or every widget under a layout."""
    if item_widget is not None:
        return [item_widget, *item_widget.findChildren(QWidget)]
    found: list[QWidget] = []
    if item_layout is not None:
        for index in range(item_layout.count()):
            child = item_layout.itemAt(index)
            found += _widgets_in(child.widget(), child.layout())
    return found


def name_field(label: str, field: list[QWidget]) -> None:
    """Name a form row's controls after its label: the one input (or a lone check box) gets
    the label itself, several inputs get "label 1 of 2", buttons with text "label: text"."""
    inputs = [w for w in field if isinstance(w, INPUTS) and not _inside_input(w)]
    buttons = [w for w in field if isinstance(w, QAbstractButton) and not _inside_input(w)]
    if not inputs and len(buttons) == 1 and not visible_text(buttons[0].text()):
        inputs, buttons = buttons, []
    for number, widget in enumerate(inputs, 1):
        widget.setAccessibleName(label if len(inputs) == 1 else f"{label} {number} of "
                                 f"{len(inputs)}")
    for button in buttons:
        own = _button_text(button)
        button.setAccessibleName(f"{label}: {own}" if own else label)


def _inside_input(widget: QWidget) -> bool:
    """Parts of a composite input (a combo box's line edit, a spin box's) share its name."""
    parent = widget.parentWidget()
    return isinstance(parent, INPUTS)


def _button_text(button: QAbstractButton) -> str:
    """Its text, its action's text, else its tooltip (for icons and marks such as "…")."""
    text = visible_text(button.text())
    if not text and isinstance(button, QToolButton) and button.defaultAction() is not None:
        text = visible_text(button.defaultAction().text())
    if not any(char.isalnum() for char in text):
        text = visible_text(button.toolTip()) or text
    return text


def name_form(form: QFormLayout) -> None:
    """Name every labelled row of a form after its label."""
    for row in range(form.rowCount()):
        label_item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
        field_item = form.itemAt(row, QFormLayout.ItemRole.FieldRole)
        if label_item is None or field_item is None:
            continue
        label = label_item.widget()
        text = visible_text(label.text()) if isinstance(label, QLabel) else ""
        if text:
            name_field(text, _widgets_in(field_item.widget(), field_item.layout()))


def name_widgets(root: QWidget) -> None:
    """Give every control and panel under `root` an accessible name from its visible text."""
    for form in root.findChildren(QFormLayout):
        name_form(form)
    widgets = [root, *root.findChildren(QWidget)]
    for label in (w for w in widgets if isinstance(w, QLabel) and w.buddy() is not None):
        if not label.buddy().accessibleName():
            label.buddy().setAccessibleName(visible_text(label.text()))
    for widget in widgets:
        if widget.accessibleName():
            continue
        name = ""
        if isinstance(widget, QAbstractButton):
            name = _button_text(widget)
        elif isinstance(widget, QLineEdit) and not _inside_input(widget):
            name = visible_text(widget.placeholderText()) or visible_text(widget.toolTip())
        elif isinstance(widget, (QComboBox, QAbstractSpinBox)):
            name = visible_text(widget.toolTip())
        elif isinstance(widget, QDockWidget):
            name = visible_text(widget.windowTitle())
            if widget.widget() is not None and not widget.widget().accessibleName():
                widget.widget().setAccessibleName(name)
        elif isinstance(widget, QGroupBox):
            name = visible_text(widget.title())
        if name:
            widget.setAccessibleName(name)
    for part in (w for w in widgets if _inside_input(w) and not w.accessibleName()):
        owner = part.parentWidget().accessibleName()
        clears = isinstance(part, QAbstractButton) and isinstance(part.parentWidget(), QLineEdit)
        part.setAccessibleName(f"Clear {owner}" if clears else owner)  # a line edit's button


class _DialogNamer(QObject):
    """Names a dialog's controls when it is first polished, just before it shows: dialogs
    are built on demand, by the window and by Qt (message boxes), after the window was
    named. It watches the window alone, since a filter on the application would run on
    every event of every object."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ChildPolished and isinstance(event.child(), QDialog):
            name_widgets(event.child())
        return False


def keep_named(window: QMainWindow) -> None:
    """Name the window's widgets now, a dock's again whenever it is shown (panels build
    parts of themselves later, e.g. a run's views), and every dialog of the window as it
    opens."""
    name_widgets(window)
    window.installEventFilter(_DialogNamer(window))
    for dock in window.findChildren(QDockWidget):
        dock.visibilityChanged.connect(lambda visible, dock=dock: _name_if_shown(dock, visible))


def _name_if_shown(dock: QDockWidget, visible: bool) -> None:
    if visible:
        name_widgets(dock)
