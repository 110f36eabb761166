"""The inspector's view of an open block definition: its name, its uses and its arguments.

Each argument is a small card (name, kind, default, range or choices, help) with Remove; Add
argument makes a new one. Every accepted change is one undo step through
engine.blocks.arguments; a refused one is explained under the field that was edited, which
keeps what was typed so it can be corrected.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from designer.accessibility import name_widgets
from designer.document import DesignDocument
from designer.panels.number_field import format_number, parse_number
from designer.panels.param_editors import REFUSED_STYLE, ParamEditor, editor_for
from designer.undo_commands import attempt
from designer.widgets import error_line, push_button
from engine import Design
from engine.blocks.arguments import add_argument, change_argument, remove_argument, with_kind
from engine.blocks.definitions import ARGUMENT_KINDS
from engine.blocks.grouping import rename_block
from engine.events import (
    BlockArgumentsChanged,
    DesignEvent,
    NodeAdded,
    NodeRemoved,
)
from engine.fields import Param
from engine.limits import LARGEST_WHOLE_NUMBER

KIND_LABELS = {"int": "whole number", "float": "number", "bool": "true/false",
               "choice": "choice"}
NUMBER_KINDS = ("int", "float")


def _with_error(widget: QWidget, parent: QWidget) -> tuple[QWidget, QLabel]:
    """`widget` above a hidden error line, as one form field."""
    holder = QWidget(parent)
    layout = QVBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    widget.setParent(holder)
    layout.addWidget(widget)
    error = error_line(holder)
    layout.addWidget(error)
    return holder, error


def _bound_text(bound: float | None) -> str:
    """A bound as typed; the whole-number ceiling every int has reads as no bound."""
    return "" if bound is None or bound == LARGEST_WHOLE_NUMBER else format_number(bound)


class ArgumentCard(QGroupBox):
    """One argument's fields. It edits nothing: `changed(field, old name, argument)` offers
    the argument as edited, and whoever applies it calls `refuse(field, reason)` if it is
    not taken; `removed(name)` asks for the argument to go."""

    changed = Signal(str, str, object)
    removed = Signal(str)

    def __init__(self, declared: Param, parent: QWidget | None = None) -> None:
        super().__init__(declared.name, parent)
        self.declared: Param | None = None
        self.form = QFormLayout(self)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.errors: dict[str, QLabel] = {}
        self.inputs: dict[str, QWidget] = {}
        self.name_edit = self._line("name", "Name", "a Python name, e.g. planes")
        self.kind_combo = QComboBox()
        for kind in ARGUMENT_KINDS:
            self.kind_combo.addItem(KIND_LABELS[kind], kind)
        self.kind_combo.activated.connect(self._on_kind)
        self._add_row("kind", "Kind", self.kind_combo)
        self.default_holder = QWidget()
        QVBoxLayout(self.default_holder).setContentsMargins(0, 0, 0, 0)
        self.default_editor: ParamEditor | None = None
        self._add_row("default", "Default", self.default_holder)
        self.minimum_edit, self.maximum_edit = self._range_row()
        self.choices_edit = self._line("choices", "Choices", "e.g. relu, gelu")
        self.help_edit = self._line("help", "Help", "what the argument means")
        self.remove_error = error_line(self)
        self.remove_button = push_button(self, "Remove", "Remove this argument from the block",
                                         lambda: self.removed.emit(self.declared.name))
        self.form.addRow(self.remove_button, self.remove_error)
        self.show_argument(declared)

    # ------------------------------------------------------------------ building
    def _line(self, field: str, label: str, placeholder: str) -> QLineEdit:
        line = QLineEdit()
        line.setPlaceholderText(placeholder)
        line.editingFinished.connect(lambda: self._on_text(field))
        self._add_row(field, label, line)
        return line

    def _add_row(self, field: str, label: str, widget: QWidget) -> None:
        holder, self.errors[field] = _with_error(widget, self)
        self.inputs[field] = widget
        self.form.addRow(label, holder)

    def _range_row(self) -> tuple[QLineEdit, QLineEdit]:
        """Minimum and maximum side by side ("1 to none"), sharing one error line."""
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        bounds = []
        for field in ("minimum", "maximum"):
            line = QLineEdit(row)
            line.setPlaceholderText("none")
            line.setToolTip(f"The argument's {field}; empty for none")
            line.editingFinished.connect(lambda field=field: self._on_text(field))
            self.inputs[field] = line
            bounds.append(line)
        layout.addWidget(bounds[0])
        layout.addWidget(QLabel("to", row))
        layout.addWidget(bounds[1])
        self._add_row("minimum", "Range", row)
        self.errors["maximum"] = self.errors["minimum"]
        self.inputs["minimum"] = bounds[0]
        return bounds[0], bounds[1]

    def show_argument(self, declared: Param) -> None:
        """Show `declared`; a field whose value did not change keeps what is typed in it
        (and its refusal), so an edit elsewhere loses nothing."""
        old, self.declared = self.declared, declared
        self.setTitle(f"{declared.name} ({KIND_LABELS[declared.kind]})")
        texts = {"name": declared.name, "minimum": _bound_text(declared.minimum),
                 "maximum": _bound_text(declared.maximum),
                 "choices": ", ".join(declared.choices), "help": declared.help}
        for field, text in texts.items():
            if old is None or getattr(old, field) != getattr(declared, field):
                self.inputs[field].setText(text)
                self._clear(field)
        if old is None or old.kind != declared.kind:
            self.kind_combo.setCurrentIndex(ARGUMENT_KINDS.index(declared.kind))
            self._clear("kind")
        if old is None or (old.kind, old.minimum, old.maximum, old.choices) != (
                declared.kind, declared.minimum, declared.maximum, declared.choices):
            self._new_default_editor(declared)
        elif old.default != declared.default:
            self.default_editor.set_value(declared.default)
            self._clear("default")
        numeric, choice = declared.kind in NUMBER_KINDS, declared.kind == "choice"
        for field, shown in (("minimum", numeric), ("choices", choice)):
            self.form.setRowVisible(self.errors[field].parentWidget(), shown)
        if old != declared:
            self.remove_error.hide()

    def _new_default_editor(self, declared: Param) -> None:
        """The default's editor follows the argument's kind and range (a number field that
        refuses what lies outside it, a check box, a list of the choices)."""
        if self.default_editor is not None:
            self.default_holder.layout().removeWidget(self.default_editor)
            self.default_editor.hide()
            self.default_editor.deleteLater()
        self.default_editor = editor_for(declared, self.default_holder)
        self.default_editor.set_value(declared.default)
        self.default_editor.edited.connect(
            lambda value: self._offer("default", default=value))
        self.default_editor.invalid.connect(lambda message: self._show("default", message))
        self.default_holder.layout().addWidget(self.default_editor)
        self._clear("default")

    # ------------------------------------------------------------------ editing
    def _on_kind(self, index: int) -> None:
        kind = self.kind_combo.itemData(index)
        if kind != self.declared.kind:
            self.changed.emit("kind", self.declared.name, with_kind(self.declared, kind))

    def _on_text(self, field: str) -> None:
        text = self.inputs[field].text().strip()
        try:
            value = self._read(field, text)
        except ValueError as err:
            self.refuse(field, str(err))
            return
        if value == getattr(self.declared, field):
            self._clear(field)
            return
        if field == "choices" and self.declared.default not in value and value:
            self._offer(field, choices=value, default=value[0])  # the old default is gone
            return
        self._offer(field, **{field: value})

    def _read(self, field: str, text: str) -> Any:
        """What a typed field holds (ValueError says why it cannot)."""
        if field in ("minimum", "maximum"):
            if not text:
                return LARGEST_WHOLE_NUMBER if (
                    field == "maximum" and self.declared.kind == "int") else None
            return parse_number(text, self.declared.kind, field)
        if field == "choices":
            return tuple(choice.strip() for choice in text.split(",") if choice.strip())
        return text

    def _offer(self, field: str, **changes: Any) -> None:
        self.changed.emit(field, self.declared.name, replace(self.declared, **changes))

    def refuse(self, field: str, message: str) -> None:
        """Say why the edit of `field` was not taken, beside it (what was typed stays)."""
        if field == "default" and self.default_editor is not None:
            self.default_editor.refuse(message)
        elif field == "kind":
            self.kind_combo.setCurrentIndex(ARGUMENT_KINDS.index(self.declared.kind))
            self._show(field, message)
        elif field == "remove":
            self.remove_error.setText(message)
            self.remove_error.show()
        else:
            self._show(field, message)

    def _show(self, field: str, message: str) -> None:
        self.errors[field].setText(message)
        self.errors[field].show()
        self.inputs[field].setStyleSheet(REFUSED_STYLE)

    def _clear(self, field: str) -> None:
        """Hide the field's error line and unframe every input that shares it."""
        line = self.errors[field]
        line.hide()
        for other in (other for other, shared in self.errors.items() if shared is line):
            self.inputs[other].setStyleSheet("")


class BlockDefinitionView(QWidget):
    """What the inspector shows while a definition is open and nothing is selected."""

    def __init__(self, document: DesignDocument, block: str, hint: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document, self.block = document, block
        layout = QVBoxLayout(self)
        self.title = QLabel(f"<b>{html.escape(block)}</b> (block definition)", self)
        layout.addWidget(self.title)
        form = QFormLayout()
        self.name_edit = QLineEdit(block)
        self.name_edit.editingFinished.connect(self._rename)
        holder, self.name_error = _with_error(self.name_edit, self)
        form.addRow("Name", holder)
        layout.addLayout(form)
        self.uses = QLabel(self)
        self.uses.setWordWrap(True)
        layout.addWidget(self.uses)
        heading = QLabel("<b>Arguments</b>", self)
        heading.setToolTip("Values each use of the block sets; the layers inside read them in "
                           "expressions such as planes * 4")
        layout.addWidget(heading)
        self.empty = QLabel("None yet: add one, or use Make argument beside a layer's value.",
                            self)
        self.empty.setWordWrap(True)
        layout.addWidget(self.empty)
        self.card_list = QVBoxLayout()
        layout.addLayout(self.card_list)
        self.cards: list[ArgumentCard] = []
        self.add_button = push_button(self, "Add argument",
                                      "Give the block a new argument (every use takes its "
                                      "default)", self._add)
        layout.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.hint = QLabel(f"<i>{hint}</i>", self)
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        layout.addStretch(1)
        self._show_uses()
        self._show_arguments()

    # ------------------------------------------------------------------ following the design
    def follow(self, event: DesignEvent) -> None:
        """Show what an edit (or an undo) changed."""
        if not self.document.design.is_block(self.block):
            return  # renamed or gone: the inspector makes a new view when the scope follows
        if isinstance(event, BlockArgumentsChanged) and event.block == self.block:
            self._show_arguments()
        elif isinstance(event, (NodeAdded, NodeRemoved)):
            self._show_uses()

    def _show_uses(self) -> None:
        count = len(self.document.design.uses_of(self.block))
        self.uses.setText(f"Used by {count} block node{'s' * (count != 1)}: an edit here "
                          "changes every use. Alt+Up goes back.")

    def _show_arguments(self) -> None:
        """Show the arguments; a card stays (with what is typed in it) while its argument
        does: by place when the count is the same (a rename), by name otherwise."""
        arguments = self.document.design.block_arguments(self.block)
        if len(arguments) != len(self.cards):
            self._sort_cards(arguments)
        for card, declared in zip(self.cards, arguments):
            card.show_argument(declared)
        self.empty.setVisible(not arguments)

    def _sort_cards(self, arguments: tuple[Param, ...]) -> None:
        """One card per argument, in their order: kept where the name is, new otherwise."""
        kept = {card.declared.name: card for card in self.cards}
        self.cards = [kept.pop(declared.name, None) or self._new_card(declared)
                      for declared in arguments]
        for card in kept.values():
            self.card_list.removeWidget(card)
            card.deleteLater()
        for index, card in enumerate(self.cards):
            self.card_list.insertWidget(index, card)
            card.show()  # at once, not when the event loop next runs
        name_widgets(self)

    def _new_card(self, declared: Param) -> ArgumentCard:
        card = ArgumentCard(declared, self)
        card.changed.connect(self._change)
        card.removed.connect(self._remove)
        return card

    def card(self, name: str) -> ArgumentCard:
        return next(card for card in self.cards if card.declared.name == name)

    # ------------------------------------------------------------------ editing
    def _edit(self, text: str, operation: Callable[[Design], object]) -> str | None:
        return attempt(self.document.design, self.document.push, text, operation)

    def _add(self) -> None:
        problem = self._edit(f"Add an argument to {self.block}",
                             lambda design: add_argument(design, self.block))
        if problem is None:
            self.cards[-1].name_edit.setFocus()
            self.cards[-1].name_edit.selectAll()

    def _change(self, field: str, name: str, declared: Param) -> None:
        what = (f"Rename argument {name} to {declared.name}" if declared.name != name
                else f"Change {field} of argument {name}")
        problem = self._edit(f"{what} of {self.block}", lambda design: change_argument(
            design, self.block, name, declared))
        if problem:
            self.card(name).refuse(field, problem)

    def _remove(self, name: str) -> None:
        problem = self._edit(f"Remove argument {name} of {self.block}",
                             lambda design: remove_argument(design, self.block, name))
        if problem:
            self.card(name).refuse("remove", f"Cannot remove {name!r}: {problem}")

    def _rename(self) -> None:
        old, new = self.block, self.name_edit.text().strip()
        if new == old:
            self.name_error.hide()
            return
        problem = self._edit(f"Rename block {old} to {new}",
                             lambda design: rename_block(design, old, new))
        self.name_error.setText(problem or "")
        self.name_error.setVisible(bool(problem))
