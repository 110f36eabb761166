"""The problems panel: every problem `engine.check` found; clicking one shows its layer."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from designer.document import DesignDocument
from designer.panels.table_text import ColumnFitter
from designer.widgets import read_only_table
from engine import Problem, Report

COLUMNS = ("Layer", "Problem", "Fix")
Index = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()  # the invisible parent of a flat table's rows


class ProblemsModel(QAbstractTableModel):
    """The report's problems, errors first, as rows of (layer, message, fix)."""

    def __init__(self, document: DesignDocument, icons: dict[str, QIcon]) -> None:
        super().__init__(document)
        self.document = document
        self.icons = icons
        self.problems: list[Problem] = []

    def set_report(self, report: Report) -> None:
        """Show the report's problems; the table is rebuilt only when they changed (most
        edits change none, and rebuilding re-fits every row)."""
        problems = sorted(report.problems, key=lambda p: p.severity != "error")
        if problems == self.problems:
            return
        self.beginResetModel()
        self.problems = problems
        self.endResetModel()

    def rowCount(self, parent: Index = ROOT) -> int:
        return 0 if parent.isValid() else len(self.problems)

    def columnCount(self, parent: Index = ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        problem = self.problems[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (self.where(problem), problem.message, problem.fix or "")[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            return str(problem)
        if role == Qt.ItemDataRole.DecorationRole and column == 0:
            return self.icons.get(problem.severity)
        return None

    def where(self, problem: Problem) -> str:
        design = self.document.design
        if problem.node and design.has_node(problem.node):
            return design.node(problem.node).name
        return problem.scope


class ProblemsPanel(QWidget):
    """A count line over the problem table; a click reveals the layer on the canvas."""

    countChanged = Signal(int, int)  # errors, warnings

    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        style = self.style()
        icons = {"error": style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxCritical),
                 "warning": style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)}
        self.model = ProblemsModel(document, icons)
        self.summary = QLabel(self)
        self.view = read_only_table(self, self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.columns = ColumnFitter(self.view, grow=(COLUMNS.index("Problem"),
                                                     COLUMNS.index("Fix")), wrap=True)
        self.view.clicked.connect(self.reveal)
        self.view.activated.connect(self.reveal)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.view)
        document.panelsReportChanged.connect(self.show_report)
        self.show_report(document.report)

    def show_report(self, report: Report) -> None:
        self.model.set_report(report)
        errors, warnings = len(report.errors), len(report.warnings)
        if not errors and not warnings:
            self.summary.setText("No problems: the design is ready to train.")
        else:
            self.summary.setText(f"{errors} error{'s' * (errors != 1)}, "
                                 f"{warnings} warning{'s' * (warnings != 1)}")
        self.countChanged.emit(errors, warnings)

    def reveal(self, index: QModelIndex) -> None:
        """Select and frame the problem's layer (opening the block it is in), or show its
        network or block definition."""
        problem = self.model.problems[index.row()]
        design = self.document.design
        if problem.node and design.has_node(problem.node):
            self.document.reveal(problem.node)
        elif problem.network in design.networks:
            self.document.set_network(problem.network)
            self.document.leave_to(0)
        elif problem.network is not None and design.is_block(problem.network):
            self.document.open_definition(problem.network)
