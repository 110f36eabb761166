"""The summary: parameter totals, estimated size and a per-layer table, like a model summary."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from designer.document import DesignDocument
from designer.panels.lazy import RefreshWhenShown
from designer.panels.table_text import ColumnFitter
from engine import Report
from engine.checking import describe

COLUMNS = ("Layer", "Type", "Output shape", "Parameters")
BYTES_PER_PARAMETER = 4  # float32
Index = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()  # the invisible parent of a flat table's rows


def size_in_mb(parameters: int) -> float:
    """Memory the parameters take as float32, in MB (2**20 bytes)."""
    return parameters * BYTES_PER_PARAMETER / 2**20


def describe_size(parameters: int) -> str:
    return f"{parameters:,} parameters · {size_in_mb(parameters):.3g} MB (float32)"


class SummaryModel(QAbstractTableModel):
    """One row per layer of a network: name, type, output shape, parameter count."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[str, str, str, str]] = []

    def set_rows(self, rows: list[tuple[str, str, str, str]]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: Index = ROOT) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole and section == 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return self.rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class SummaryPanel(QWidget, RefreshWhenShown):
    """Totals for the network being edited (and the whole design) above its layer table."""

    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.totals = QLabel(self)
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model = SummaryModel(self)
        self.table = QTreeView(self)
        self.table.setModel(self.model)
        self.table.setRootIsDecorated(False)
        self.table.setAlternatingRowColors(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.columns = ColumnFitter(self.table, grow=range(len(COLUMNS)))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.totals)
        layout.addWidget(self.table)
        document.reportChanged.connect(self.mark_stale)
        document.networkChanged.connect(self.mark_stale)
        self.refresh()

    def refresh(self) -> None:
        self.mark_fresh()
        design, report = self.document.design, self.document.report
        network = self.document.network
        if network not in design.networks:
            return
        self.model.set_rows(layer_rows(self.document, report, network))
        lines = [f"<b>{network}</b>: {describe_size(report.total_params(network))}"]
        unknown = sum(report.params(n) is None for n in design.nodes(network))
        if unknown:
            lines.append(f"{unknown} layer{'s' * (unknown != 1)} not counted until "
                         "their problems are fixed")
        if len(design.networks) > 1:
            total = sum(report.total_params(n) for n in design.networks)
            lines.append(f"Whole design: {describe_size(total)}")
        self.totals.setText("<br>".join(lines))


def layer_rows(document: DesignDocument, report: Report,
               network: str) -> list[tuple[str, str, str, str]]:
    """The table rows of one network, in creation order."""
    graph = document.design.graph(network)
    rows = []
    for node_id in document.design.nodes(network):
        data = graph.nodes[node_id]
        count = report.params(node_id)
        rows.append((data["name"], data["type"], describe(report.info(node_id)),
                     "?" if count is None else f"{count:,}"))
    return rows
