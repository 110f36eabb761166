"""The summary: parameter totals, estimated size and a per-layer table, like a model summary;
a block node expands to its layers, a repeated one to its copies."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QLabel,
    QVBoxLayout,
    QWidget,
)

from designer.canvas.node_text import kind_text
from designer.document import DesignDocument
from designer.panels.lazy import RefreshWhenShown
from designer.panels.table_text import ColumnFitter
from designer.widgets import read_only_table
from engine import Design, Report
from engine.blocks.grouping import PORT_TYPES
from engine.checking import Walk, describe
from engine.layers import TensorInfo
from engine.layers.block_node import BLOCK_TYPE

COLUMNS = ("Layer", "Type", "Output shape", "Parameters")
BYTES_PER_PARAMETER = 4  # float32
Index = QModelIndex | QPersistentModelIndex
ROOT = QModelIndex()  # the invisible parent of the top-level rows


def size_in_mb(parameters: int) -> float:
    """Memory the parameters take as float32, in MB (2**20 bytes)."""
    return parameters * BYTES_PER_PARAMETER / 2**20


def describe_size(parameters: int) -> str:
    return f"{parameters:,} parameters · {size_in_mb(parameters):.3g} MB (float32)"


@dataclass
class SummaryRow:
    """One line of the summary: a layer, a block node (its layers beneath), or one copy of a
    repeated block (its layers beneath)."""

    cells: tuple[str, str, str, str]
    children: list[SummaryRow] = field(default_factory=list)
    parent: SummaryRow | None = field(default=None, repr=False)


class SummaryModel(QAbstractItemModel):
    """The layers of a network, in creation order; a block node expands to its layers (per
    copy when it repeats), with the shapes and counts of that use."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.root = SummaryRow(("", "", "", ""))

    @property
    def rows(self) -> list[tuple[str, str, str, str]]:
        """The top-level rows' cells."""
        return [row.cells for row in self.root.children]

    def set_rows(self, rows: list[SummaryRow]) -> None:
        self.beginResetModel()
        self.root = SummaryRow(("", "", "", ""), rows)
        _link(self.root)
        self.endResetModel()

    def _row(self, index: Index) -> SummaryRow:
        return index.internalPointer() if index.isValid() else self.root

    def index(self, row: int, column: int, parent: Index = ROOT) -> QModelIndex:
        children = self._row(parent).children
        if not (0 <= row < len(children) and 0 <= column < len(COLUMNS)):
            return QModelIndex()
        return self.createIndex(row, column, children[row])

    def parent(self, index: Index = ROOT) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        up = self._row(index).parent
        if up is None or up is self.root:
            return QModelIndex()
        return self.createIndex(up.parent.children.index(up), 0, up)

    def rowCount(self, parent: Index = ROOT) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._row(parent).children)

    def columnCount(self, parent: Index = ROOT) -> int:
        return len(COLUMNS)

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
            return self._row(index).cells[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _link(row: SummaryRow) -> None:
    for child in row.children:
        child.parent = row
        _link(child)


class SummaryPanel(QWidget, RefreshWhenShown):
    """Totals for the network being edited (and the whole design) above its layer table."""

    def __init__(self, document: DesignDocument, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self.totals = QLabel(self)
        self.totals.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.model = SummaryModel(self)
        self.table = read_only_table(self, self.model)
        self.columns = ColumnFitter(self.table, grow=range(len(COLUMNS)))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.totals)
        layout.addWidget(self.table)
        document.panelsReportChanged.connect(self.mark_stale)
        document.networkChanged.connect(self.mark_stale)
        self.refresh()

    def refresh(self) -> None:
        self.mark_fresh()
        design, report = self.document.design, self.document.report
        network = self.document.network
        if network not in design.networks:
            return
        rows = layer_rows(self.document, report, network)
        self.model.set_rows(rows)
        self.table.setRootIsDecorated(any(row.children for row in rows))
        lines = [f"<b>{network}</b>: {describe_size(report.total_params(network))}"]
        unknown = sum(report.params(n) is None for n in design.nodes(network))
        if unknown:
            lines.append(f"{unknown} layer{'s' * (unknown != 1)} not counted until "
                         "their problems are fixed")
        if len(design.networks) > 1:
            total = sum(report.total_params(n) for n in design.networks)
            lines.append(f"Whole design: {describe_size(total)}")
        self.totals.setText("<br>".join(lines))


def layer_rows(document: DesignDocument, report: Report, network: str) -> list[SummaryRow]:
    """The rows of one network, in creation order, block nodes with their layers beneath."""
    design = document.design
    return [_node_row(design, node_id, report.info(node_id), report.params(node_id),
                      report.uses.get(node_id, ()))
            for node_id in design.nodes(network)]


def _node_row(design: Design, node_id: str, info: TensorInfo | None, count: int | None,
              copies: tuple[Walk, ...]) -> SummaryRow:
    node = design.node(node_id)
    row = SummaryRow((node.name, kind_text(node.type, node.params), describe(info),
                      "?" if count is None else f"{count:,}"))
    if node.type != BLOCK_TYPE or not copies:
        return row
    if len(copies) == 1:
        row.children = _walk_rows(design, node.params["block"], copies[0])
        return row
    for index, walk in enumerate(copies):
        output = walk.outputs[0] if walk.outputs else None
        copy = SummaryRow((f"[{index}]", node.params["block"], describe(output),
                           f"{walk.total:,}"))
        copy.children = _walk_rows(design, node.params["block"], walk)
        row.children.append(copy)
    return row


def _walk_rows(design: Design, block: str, walk: Walk) -> list[SummaryRow]:
    """The layers of one walk through a definition (its Inputs and Output aside)."""
    return [_node_row(design, node_id, walk.infos.get(node_id), walk.counts.get(node_id),
                      walk.uses.get(node_id, ()))
            for node_id in design.nodes(block)
            if design.node(node_id).type not in PORT_TYPES]
