"""The Runs tab: every run kept beside the design. Selecting runs lays their curves over the
live ones; a run can be renamed (double-click its name), deleted, exported as CSV or PNG, used
for predictions or to show activations on the canvas, or continued from its last checkpoint."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine import DesignError
from engine.runs import RunRecord, RunStore, export_metrics_csv

COLUMNS = ("Name", "Status", "Epochs", "Result", "Device", "Started")
RESULT_METRICS = (("val_accuracy", "accuracy {:.1%}"), ("val_loss", "val loss {:.4g}"),
                  ("diversity", "diversity {:.3g}"), ("loss", "loss {:.4g}"))
BUTTONS = (("rename", "Rename", "Rename the run (or double-click its name)"),
           ("delete", "Delete", "Delete the selected runs and their files"),
           ("csv", "Export CSV\u2026", "Save the run's per-epoch metrics as CSV"),
           ("png", "Export PNG\u2026", "Save the curves of the selected runs as a picture"),
           ("predict", "Predict", "Try the run's weights in the Predict tab"),
           ("probe", "Show activations", "Each layer's output on the canvas, with these weights"),
           ("continue", "Continue training", "Train on from the run's last checkpoint"))
STATUS_TEXT = {"early_stopped": "stopped early", "starting": "starting", "running": "running"}


def result_text(record: RunRecord) -> str:
    metrics = record.info.get("metrics") or {}
    for key, template in RESULT_METRICS:
        if isinstance(metrics.get(key), (int, float)):
            return template.format(metrics[key])
    return record.info.get("reason", "")[:80] if record.status == "failed" else ""


class RunsView(QWidget):
    selectionChanged = Signal(list)      # selected RunRecords
    predictRequested = Signal(object)    # RunRecord
    continueRequested = Signal(object)   # RunRecord
    probeRequested = Signal(object)      # RunRecord: show activations with its weights
    exportPicture = Signal(object)       # Path: draw the curves (with the selection) there
    message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store: RunStore | None = None
        self.live_id: str | None = None
        self.records: dict[str, RunRecord] = {}
        self.ask_save_path: Callable[[str, str, str], Path | None] = self._ask_save_path
        self.confirm: Callable[[str], bool] = self._confirm
        self.tree = QTreeWidget(self)
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.tree.header().resizeSection(0, 180)
        self.tree.itemSelectionChanged.connect(self._on_selection)
        self.tree.itemChanged.connect(self._on_item_changed)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        slots = {"rename": self.rename_selected, "delete": self.delete_selected,
                 "csv": self.export_csv, "png": self.export_png,
                 "predict": self._request_predict, "continue": self._request_continue,
                 "probe": self._request_probe}
        for key, text, tip in BUTTONS:
            button = QPushButton(text, self)
            button.setToolTip(tip)
            button.clicked.connect(slots[key])
            row.addWidget(button)
            self.buttons[key] = button
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(row)
        layout.addWidget(self.tree, 1)
        self._update_buttons()

    # ------------------------------------------------------------------ contents
    def set_store(self, store: RunStore, live_id: str | None) -> None:
        if self.store is not None and store.folder != self.store.folder:
            self.tree.clearSelection()   # run ids are numbers within one store
        self.store, self.live_id = store, live_id
        self.refresh()

    def refresh(self) -> None:
        selected = {r.id for r in self.selected()}
        self.tree.blockSignals(True)
        self.tree.clear()
        self.records = {r.id: r for r in (self.store.runs() if self.store else [])}
        for record in reversed(list(self.records.values())):
            item = QTreeWidgetItem(self._row(record))
            item.setData(0, Qt.ItemDataRole.UserRole, record.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            item.setToolTip(0, str(record.folder))
            if record.status == "failed":
                item.setToolTip(3, record.info.get("reason", ""))
            self.tree.addTopLevelItem(item)
            item.setSelected(record.id in selected)
        for column in range(1, len(COLUMNS)):
            self.tree.resizeColumnToContents(column)
        self.tree.blockSignals(False)
        self._update_buttons()

    def _row(self, record: RunRecord) -> list[str]:
        status = STATUS_TEXT.get(record.status, record.status)
        if not record.finished and record.id != self.live_id:
            status = "interrupted"
        epochs = record.info.get("epochs_done") or record.info.get("epochs") or ""
        return [record.name, status, str(epochs), result_text(record),
                record.info.get("device_name", ""), record.created.replace("T", " ")]

    def selected(self) -> list[RunRecord]:
        ids = [item.data(0, Qt.ItemDataRole.UserRole) for item in self.tree.selectedItems()]
        return [self.records[i] for i in ids if i in self.records]

    def select(self, run_ids: list[str]) -> None:
        for index in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(index)
            item.setSelected(item.data(0, Qt.ItemDataRole.UserRole) in run_ids)

    def _on_selection(self) -> None:
        self._update_buttons()
        self.selectionChanged.emit(self.selected())

    def _update_buttons(self) -> None:
        chosen = self.selected()
        one = len(chosen) == 1
        idle = [r for r in chosen if r.id != self.live_id]
        self.buttons["rename"].setEnabled(one)
        self.buttons["delete"].setEnabled(bool(idle))
        self.buttons["csv"].setEnabled(one)
        self.buttons["png"].setEnabled(bool(chosen))
        self.buttons["predict"].setEnabled(one and chosen[0].id != self.live_id)
        self.buttons["probe"].setEnabled(one and chosen[0].id != self.live_id
                                         and chosen[0].finished and chosen[0].has_weights)
        self.buttons["continue"].setEnabled(one and chosen[0].id != self.live_id
                                            and chosen[0].latest_checkpoint() is not None)

    # ------------------------------------------------------------------ actions
    def rename_selected(self) -> None:
        items = self.tree.selectedItems()
        if len(items) == 1:
            self.tree.editItem(items[0], 0)

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        run_id = item.data(0, Qt.ItemDataRole.UserRole)
        if column != 0 or self.store is None or run_id not in self.records:
            return
        try:
            self.records[run_id] = self.store.rename(run_id, item.text(0))
        except (DesignError, OSError) as err:
            self.message.emit(f"Cannot rename the run: {err}")
        self.refresh()
        self.selectionChanged.emit(self.selected())

    def delete_selected(self) -> None:
        doomed = [r for r in self.selected() if r.id != self.live_id]
        if not doomed or self.store is None:
            return
        names = ", ".join(r.name for r in doomed)
        if not self.confirm(f"Delete {names} and all its files (weights, checkpoints)?"):
            return
        for record in doomed:
            try:
                self.store.delete(record.id)
            except (DesignError, OSError) as err:
                self.message.emit(f"Cannot delete {record.name}: {err}")
        self.refresh()
        self.selectionChanged.emit(self.selected())

    def export_csv(self) -> None:
        chosen = self.selected()
        if len(chosen) != 1:
            return
        record = chosen[0]
        path = self.ask_save_path("Export metrics", f"{record.name}.csv", "CSV files (*.csv)")
        if path is None:
            return
        try:
            export_metrics_csv(record, path)
        except (DesignError, OSError) as err:
            self.message.emit(f"Cannot export: {err}")
            return
        self.message.emit(f"Saved {path}")

    def export_png(self) -> None:
        chosen = self.selected()
        if not chosen:
            return
        path = self.ask_save_path("Export curves", f"{chosen[0].name}.png", "PNG images (*.png)")
        if path is not None:
            self.exportPicture.emit(path)

    def _request_predict(self) -> None:
        if len(self.selected()) == 1:
            self.predictRequested.emit(self.selected()[0])

    def _request_probe(self) -> None:
        if len(self.selected()) == 1:
            self.probeRequested.emit(self.selected()[0])

    def _request_continue(self) -> None:
        if len(self.selected()) == 1:
            self.continueRequested.emit(self.selected()[0])

    # ------------------------------------------------------------------ dialogs
    def _ask_save_path(self, title: str, name: str, filter_text: str) -> Path | None:
        start = str((self.store.folder.parent if self.store else Path.home()) / name)
        chosen, _filter = QFileDialog.getSaveFileName(self, title, start, filter_text)
        return Path(chosen) if chosen else None

    def _confirm(self, question: str) -> bool:
        answer = QMessageBox.question(self, "Delete runs", question)
        return answer == QMessageBox.StandardButton.Yes
