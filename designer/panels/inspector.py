"""The inspector: the selected layer's name, parameters, explanation, shapes and problems.

Editors are built from the layer's Params (engine.fields). Every valid edit is pushed at once
as an undoable SetParams (successive edits of one field merge into one step); a value the layer
cannot take is shown inline under its field and never reaches the design.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from designer.accessibility import name_widgets
from designer.document import DesignDocument
from designer.panels.block_arguments import BlockDefinitionView
from designer.panels.inspector_activation import ActivationView
from designer.panels.inspector_working import working_html, working_lines
from designer.panels.param_editors import ExpressionEditor, ParamEditor, choose_file, editor_for
from designer.theme import coloured
from designer.undo_commands import Rename, SetParams, attempt
from designer.widgets import error_line
from engine import Node, Report
from engine.blocks.arguments import argument_kind, make_argument
from engine.blocks.definitions import Expr
from engine.checking import describe
from engine.events import DesignEvent, NameChanged, NodeChange, NodeRenamed, ParamsChanged
from engine.layers import Param, get_layer
from engine.layers.block_node import BLOCK_TYPE
from engine.probes import NodeProbe


class _Field(QWidget):
    """One parameter row: its editor (and a button acting on it, if any) with an inline error
    line beneath."""

    def __init__(self, editor: ParamEditor, parent: QWidget | None = None,
                 button: QToolButton | None = None) -> None:
        super().__init__(parent)
        self.editor, self.button = editor, button
        self.error = error_line(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        row = QHBoxLayout()
        row.addWidget(editor, 1)
        if button is not None:
            button.setParent(self)
            row.addWidget(button)
        layout.addLayout(row)
        layout.addWidget(self.error)

    def show_error(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error.setVisible(bool(message))


class Inspector(QScrollArea):
    """Shows and edits the one selected node; says so when nothing or several are selected."""

    rebuilt = Signal()   # the content was made again (what shows in it must be given again)

    def __init__(self, document: DesignDocument, parent: QWidget | None = None,
                 rename: Callable[[str, str], object] | None = None) -> None:
        """`rename(node_id, name)` applies a checked new name (the canvas's makes room for a
        card the name widens); by default it pushes a plain Rename."""
        super().__init__(parent)
        self.document = document
        self._apply_rename = rename or (
            lambda node_id, name: document.push(Rename(document.design, node_id, name)))
        self.node_id: str | None = None
        self.fields: dict[str, _Field] = {}
        self.definition: BlockDefinitionView | None = None   # shown while nothing is selected
        self.activation: ActivationView | None = None   # the selected node's probed output
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        document.selectionChanged.connect(self._on_selection)
        document.designChanged.connect(self._on_design_event)
        document.panelsReportChanged.connect(self._show_report)
        document.scopeChanged.connect(self._on_scope)
        self._on_selection(document.selection)

    # ------------------------------------------------------------------ building
    def _on_selection(self, node_ids: list[str]) -> None:
        node_id = node_ids[0] if len(node_ids) == 1 else None
        if node_id is not None and node_id == self.node_id:
            return
        self.node_id = node_id
        if node_id is None:
            self._show_placeholder(len(node_ids))
        else:
            self._build(node_id)

    def _on_scope(self, _scope: str) -> None:
        if self.node_id is None:
            self._show_placeholder(len(self.document.selection))

    def _show_placeholder(self, count: int) -> None:
        """Nothing (or several layers) selected: describe the design and say what to do."""
        self.fields = {}
        self.definition = None
        self.activation = None
        self.rebuilt.emit()
        design = self.document.design
        if count:
            hint = f"{count} layers selected. Select one layer to edit it."
        else:
            hint = "Select a layer on the canvas to see and edit its settings."
        scope = self.document.scope
        if design.is_block(scope) and not count:
            self.definition = BlockDefinitionView(self.document, scope, hint)
            self.setWidget(self.definition)
            return
        title, about = design.name, design.description
        if design.is_block(scope):
            title = f"{scope} (block definition)"
            about = "Select one layer to edit it, or none to edit the block's arguments."
        label = QLabel(f"<b>{html.escape(title)}</b><p>{html.escape(about)}"
                       f"</p><p><i>{hint}</i></p>")
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        label.setMargin(8)
        self.setWidget(label)

    def _build(self, node_id: str) -> None:
        """A row per field: the layer's parameters, or a block node's repeat and arguments;
        inside a definition a value that is an expression gets an expression box."""
        design = self.document.design
        node = design.node(node_id)
        spec = get_layer(node.type)
        self.definition = None
        content = QWidget()
        layout = QVBoxLayout(content)
        if node.type == BLOCK_TYPE:
            title = f"<b>{html.escape(node.params['block'])}</b> (block)"
            text = ("Uses a block: its layers are defined once and used at every node like "
                    "this one, each with its own weights and the argument values below. "
                    "Double-click the node to open and edit its definition.")
        else:
            title, text = f"<b>{spec.name}</b>", spec.explanation
        self.title = QLabel(title, content)
        explanation = QLabel(text, content)
        explanation.setWordWrap(True)
        layout.addWidget(self.title)
        layout.addWidget(explanation)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.name_edit = QLineEdit(node.name, content)
        self.name_edit.editingFinished.connect(self._rename)
        self.name_error = error_line(content)
        form.addRow("Name", self.name_edit)
        form.addRow("", self.name_error)
        self.fields = {}
        for param in design.fields_of(node_id).values():
            if param.name == "block":
                continue
            value = node.params[param.name]
            editor = ExpressionEditor(param) if isinstance(value, Expr) else editor_for(
                param, browse=choose_file if param.name in spec.files else None)
            editor.set_value(value)
            field = _Field(editor, content, self._argument_button(node, param))
            editor.edited.connect(lambda value, p=param: self._apply(p, value))
            editor.invalid.connect(field.show_error)
            label = QLabel(param.name, content)
            label.setToolTip(param.help)
            form.addRow(label, field)
            self.fields[param.name] = field
        layout.addLayout(form)

        self.shapes = QLabel(content)
        self.shapes.setTextFormat(Qt.TextFormat.RichText)
        self.shapes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problems = QLabel(content)
        self.problems.setWordWrap(True)
        self.problems.setTextFormat(Qt.TextFormat.RichText)
        self.working = QLabel(content)
        self.working.setWordWrap(True)
        self.working.setTextFormat(Qt.TextFormat.RichText)
        self.working.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.activation = ActivationView(content)
        self.activation.hide()
        layout.addWidget(self.shapes)
        layout.addWidget(self.working)
        layout.addWidget(self.problems)
        layout.addWidget(self.activation)
        layout.addStretch(1)
        name_widgets(content)
        self.setWidget(content)
        self._show_report(self.document.report)
        self.rebuilt.emit()

    def show_activation(self, probed: NodeProbe | None, context: str = "",
                        stale: bool = False, large: bool = False) -> None:
        """The selected node's output for the probed sample (None: the section hides)."""
        if self.activation is None:
            return
        if probed is not None:
            self.activation.show_probe(probed, context, stale, large)
        self.activation.setVisible(probed is not None)

    def _argument_button(self, node: Node, param: Param) -> QToolButton | None:
        """Inside a definition, a value an argument can hold gets a button that makes it one."""
        value = node.params[param.name]
        if (not self.document.design.is_block(node.network) or param.name == "block"
                or argument_kind(param, value) is None):
            return None
        button = QToolButton()
        button.setText("\u2192 arg")
        button.setAccessibleName(f"Make argument of {param.name}")
        button.setToolTip(f"Make argument: {node.network} gets an argument '{param.name}' "
                          f"(default {value!r}) that each use sets, and this value reads it")
        button.clicked.connect(lambda: self._make_argument(param.name))
        return button

    # ------------------------------------------------------------------ editing
    def _make_argument(self, key: str) -> None:
        """Turn the value of `key` into a new argument of the open block, as one undo step."""
        node = self.document.design.node(self.node_id)
        problem = attempt(self.document.design, self.document.push,
                          f"Make {key} of {node.name} an argument of {node.network}",
                          lambda design: make_argument(design, node.id, key))
        if problem:
            self.fields[key].show_error(problem)

    def _apply(self, param: Param, value: Any) -> None:
        field = self.fields[param.name]
        if isinstance(value, Expr):
            self._push_value(param.name, value)
            return
        try:
            value = param.coerce(value)
        except TypeError as err:
            field.editor.refuse(str(err))
            return
        problem = param.range_problem(value)
        if problem:
            field.editor.refuse(problem)
            return
        self._push_value(param.name, value)

    def _push_value(self, key: str, value: Any) -> None:
        self.fields[key].show_error(None)
        if self.document.design.node(self.node_id).params[key] != value:
            self.document.push(SetParams(self.document.design, self.node_id, {key: value}))

    def _rename(self) -> None:
        if self.node_id is None:
            return
        name = self.name_edit.text().strip()
        current = self.document.design.node(self.node_id).name
        if name == current:
            self.name_error.hide()
            return
        problem = self.document.design.rename_problem(self.node_id, name)
        if problem:
            self.name_error.setText(f"{problem}; the old name was kept.")
            self.name_error.show()
            self.name_edit.setText(current)
            return
        self.name_error.hide()
        self._apply_rename(self.node_id, name)

    # ------------------------------------------------------------------ following the design
    def _on_design_event(self, event: DesignEvent) -> None:
        if self.definition is not None:
            self.definition.follow(event)
        elif self.node_id is None and isinstance(event, NameChanged):
            self._show_placeholder(len(self.document.selection))
        if not isinstance(event, NodeChange) or event.node != self.node_id:
            return
        if isinstance(event, ParamsChanged):
            if self._fields_changed(event):
                self._build(self.node_id)
                return
            for key, value in event.new.items():
                if key in self.fields:
                    self.fields[key].editor.set_value(value)
                    self.fields[key].show_error(None)
        elif isinstance(event, NodeRenamed) and self.name_edit.text() != event.new:
            self.name_edit.setText(event.new)

    def _fields_changed(self, event: ParamsChanged) -> bool:
        """Did the edit change which rows there are (a block's arguments) or turn a value into
        an expression or back (so the rows must be made again)?"""
        params = self.document.design.node(self.node_id).params
        if set(params) - {"block"} != set(self.fields):
            return True
        return any(isinstance(value, Expr) != isinstance(self.fields[key].editor, ExpressionEditor)
                   for key, value in event.new.items() if key in self.fields)

    def _show_report(self, report: Report) -> None:
        if self.node_id is None or not self.document.design.has_node(self.node_id):
            return
        inputs = report.input_infos.get(self.node_id, [])
        rows = [f"<tr><td>Input {port}&nbsp;&nbsp;</td><td>{describe(info)}</td></tr>"
                for port, info in enumerate(inputs)]
        spec = get_layer(self.document.design.node(self.node_id).type)
        if spec.has_output:
            rows.append(f"<tr><td>Output</td><td>{describe(report.info(self.node_id))}</td></tr>")
        count = report.params(self.node_id)
        rows.append(f"<tr><td>Parameters&nbsp;&nbsp;</td>"
                    f"<td>{'?' if count is None else f'{count:,}'}</td></tr>")
        self.shapes.setText("<table>" + "".join(rows) + "</table>")
        working = working_html(working_lines(self.document.design, report, self.node_id))
        self.working.setText(working)
        self.working.setVisible(bool(working))
        problems = report.problems_for(self.node_id)
        self.problems.setText("<br>".join(
            coloured(f"<b>{p.severity.capitalize()}:</b> {html.escape(p.message)}", p.severity)
            + (f" — {html.escape(p.fix)}" if p.fix else "")
            for p in problems))
        self.problems.setVisible(bool(problems))
