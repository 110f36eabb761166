"""The open design as the GUI sees it: the engine Design, its undo stack, selection and report.

Views never change the design directly: they push commands (designer.undo_commands) onto the undo
stack, and follow the design's own events, adapted here to Qt signals.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from engine import Design, Report, check
from engine.events import DesignEvent, NodeMoved, NodeRemoved

UNDO_LIMIT = 1000


class DesignDocument(QObject):
    """One open design: the single source of truth every panel and canvas reads."""

    designChanged = Signal(object)       # engine.events.DesignEvent
    reportChanged = Signal(object)       # engine.Report, after every batch of edits
    selectionChanged = Signal(list)      # node ids
    frameRequested = Signal(str)         # node id the canvas should bring into view
    networkChanged = Signal(str)         # the network being edited
    pathChanged = Signal(object)         # Path | None

    def __init__(self, design: Design | None = None, path: Path | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.design = design or Design()
        self.path = path
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(UNDO_LIMIT)
        self._selection: list[str] = []
        self._network = self.design.networks[0]
        self.report: Report = check(self.design, self.folder)
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(0)
        self._check_timer.timeout.connect(self.recheck)
        self.design.events.connect(self._on_design_event)

    # ------------------------------------------------------------------ editing
    def push(self, command: QUndoCommand) -> None:
        """Run a command and make it undoable."""
        self.undo_stack.push(command)

    def replace_design(self, design: Design, path: Path | None) -> None:
        """Show another design (after New or Open): fresh undo history, clean state."""
        self.design.replace_with(design)
        self.path = path
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self._selection = []
        self.set_network(self.design.networks[0])
        self.selectionChanged.emit([])
        self.pathChanged.emit(path)

    def set_path(self, path: Path | None) -> None:
        """Record where the design now lives (after Save As): its data paths may be relative."""
        self.path = path
        self.pathChanged.emit(path)
        self._check_timer.start()

    @property
    def folder(self) -> Path | None:
        """The design file's folder, which relative data paths are read against."""
        return self.path.parent if self.path else None

    # ------------------------------------------------------------------ networks
    @property
    def network(self) -> str:
        return self._network

    def set_network(self, network: str) -> None:
        if network != self._network and network in self.design.networks:
            self._network = network
            self.networkChanged.emit(network)
        elif network == self._network:
            self.networkChanged.emit(network)

    # ------------------------------------------------------------------ selection
    @property
    def selection(self) -> list[str]:
        return list(self._selection)

    def set_selection(self, node_ids: list[str]) -> None:
        ids = [n for n in node_ids if self.design.has_node(n)]
        if ids != self._selection:
            self._selection = ids
            self.selectionChanged.emit(list(ids))

    def reveal(self, node_id: str) -> None:
        """Select a node, switch to its network and ask the canvas to frame it."""
        if not self.design.has_node(node_id):
            return
        self.set_network(self.design.network_of(node_id))
        self.set_selection([node_id])
        self.frameRequested.emit(node_id)

    # ------------------------------------------------------------------ checking
    def recheck(self) -> None:
        """Check the design now; per-node results are cached, so this is incremental."""
        self.report = check(self.design, self.folder)
        self.reportChanged.emit(self.report)

    def current_report(self) -> Report:
        """The report of the design as it is now: checks at once if an edit is still pending
        (the canvas judges a new wire against shapes that must include the last edit)."""
        if self._check_timer.isActive():
            self._check_timer.stop()
            self.recheck()
        return self.report

    def _on_design_event(self, event: DesignEvent) -> None:
        if isinstance(event, NodeRemoved) and event.node in self._selection:
            self._selection.remove(event.node)
            self.selectionChanged.emit(list(self._selection))
        self.designChanged.emit(event)
        if not isinstance(event, NodeMoved):
            self._check_timer.start()
