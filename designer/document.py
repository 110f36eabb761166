"""The open design as the GUI sees it: the engine Design, its undo stack, selection and report.

Views never change the design directly: they push commands (designer.undo_commands) onto the undo
stack, and follow the design's own events, adapted here to Qt signals.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from engine import Design, DesignError, Report, check
from engine.events import DesignEvent, NodeMoved, NodeRemoved
from engine.layers.block_node import BLOCK_TYPE

UNDO_LIMIT = 1000
PANELS_DELAY_MS = 25   # the panels follow a report this long after the canvas got it


@dataclass(frozen=True)
class Opened:
    """A block definition opened on the canvas, through block node `via` (None when it was
    opened without one, from the palette or a problem in a definition nobody uses)."""

    block: str
    via: str | None = None


class DesignDocument(QObject):
    """One open design: the single source of truth every panel and canvas reads."""

    designChanged = Signal(object)       # engine.events.DesignEvent
    reportChanged = Signal(object)       # engine.Report, after every batch of edits (canvas)
    # The same report once the canvas has drawn it: the panels (Problems, Summary, the
    # inspector's shapes) follow here, so that they never hold up an edit's new shapes.
    panelsReportChanged = Signal(object)
    selectionChanged = Signal(list)      # node ids
    frameRequested = Signal(str)         # node id the canvas should bring into view
    networkChanged = Signal(str)         # the network being edited
    scopeChanged = Signal(str)           # the network or block definition the canvas shows
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
        # per network, the block definitions opened from it, outermost first (the breadcrumb)
        self._trails: dict[str, list[Opened]] = {}
        self.report: Report = check(self.design, self.folder)
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(0)
        self._check_timer.timeout.connect(self._check_after_edit)
        # later than Qt's next paint of the canvas (its window asks for one within 5-16 ms)
        self._panels_timer = QTimer(self)
        self._panels_timer.setSingleShot(True)
        self._panels_timer.setInterval(PANELS_DELAY_MS)
        self._panels_timer.timeout.connect(self.update_panels)
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
        self._trails = {}
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
            self.scopeChanged.emit(self.scope)
        elif network == self._network:
            self.networkChanged.emit(network)

    # ------------------------------------------------------------------ opened blocks
    @property
    def scope(self) -> str:
        """Where edits on the canvas go: the network, or the block definition opened in it."""
        trail = self.trail()
        return trail[-1].block if trail else self._network

    def trail(self, network: str | None = None) -> list[Opened]:
        """The definitions opened from `network` (default: the current one), outermost first."""
        return list(self._trails.get(network or self._network, []))

    def open_block(self, node_id: str) -> None:
        """Show the definition that block node `node_id` (in the scope shown now) uses."""
        node = self.design.node(node_id)
        if node.type != BLOCK_TYPE:
            raise DesignError(f"{node.name!r} is a {node.type} layer, not a block")
        if node.network != self.scope:
            raise DesignError(f"{node.name!r} is not in {self.scope!r}, the scope shown now")
        self._set_trail(self._network, [*self.trail(), Opened(node.params["block"], node_id)])

    def open_definition(self, block: str) -> None:
        """Show a definition: through a use reachable from the current network when there
        is one (so the breadcrumb leads back through it), else on its own."""
        self.design.block_arguments(block)  # DesignError for an unknown block
        for network in [self._network, *self.design.networks]:
            path = _path_to(self.design, network, block)
            if path is not None:
                self.set_network(network)
                self._set_trail(network, path)
                return
        self._set_trail(self._network, [Opened(block)])

    def leave_to(self, depth: int) -> None:
        """Go back to the breadcrumb's `depth`-th level (0: the network itself)."""
        self._set_trail(self._network, self.trail()[:max(0, depth)])

    def leave_block(self) -> bool:
        """Go up one level; False when the network itself is shown."""
        trail = self.trail()
        if trail:
            self.leave_to(len(trail) - 1)
        return bool(trail)

    def _set_trail(self, network: str, trail: list[Opened]) -> None:
        if trail == self.trail(network):
            return
        self._trails[network] = trail
        if network == self._network:
            self.set_selection([])
            self.scopeChanged.emit(self.scope)

    def _prune_trails(self) -> None:
        """Follow what edits did to the open levels: a level whose use was put back under
        another definition name (a renamed block) follows it; one whose use or definition is
        gone (an undone grouping) closes with the levels inside it. Run after a batch of
        edits, since an operation may take a use out and put it back."""
        for network in list(self._trails):
            trail = self._trails[network] if network in self.design.networks else []
            scope, kept = network, []
            for opened in trail:
                if opened.via is None:
                    if not self.design.is_block(opened.block):
                        break
                elif self._uses_in(opened.via, scope):
                    opened = Opened(self.design.node(opened.via).params["block"], opened.via)
                else:
                    break
                kept.append(opened)
                scope = opened.block
            self._set_trail(network, kept)

    def _uses_in(self, node_id: str, scope: str) -> bool:
        """Is `node_id` still a block node in `scope`?"""
        return (self.design.has_node(node_id) and self.design.network_of(node_id) == scope
                and self.design.node(node_id).type == BLOCK_TYPE)

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
        """Select a node, show its network or block definition and ask the canvas to frame
        it."""
        if not self.design.has_node(node_id):
            return
        scope = self.design.network_of(node_id)
        if self.design.is_block(scope):
            if scope != self.scope:
                self.open_definition(scope)
        else:
            self.set_network(scope)
            self.leave_to(0)
        self.set_selection([node_id])
        self.frameRequested.emit(node_id)

    # ------------------------------------------------------------------ checking
    def recheck(self) -> None:
        """Check the design now and show the result everywhere at once; per-node results
        are cached, so this is incremental."""
        self._check()
        self.update_panels()

    def _check_after_edit(self) -> None:
        """The canvas shows the new report at once, the panels once it has drawn it."""
        self._check()
        self._panels_timer.start()

    def _check(self) -> None:
        self._prune_trails()
        self.report = check(self.design, self.folder)
        self.reportChanged.emit(self.report)

    def update_panels(self) -> None:
        """Bring the panels up to the latest report now (also when the deferred update is
        still to come)."""
        self._panels_timer.stop()
        self.panelsReportChanged.emit(self.report)

    def panels_pending(self) -> bool:
        """Is a report waiting for the panels (the canvas shows it already)?"""
        return self._panels_timer.isActive()

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


def _path_to(design: Design, scope: str, block: str,
             seen: frozenset[str] = frozenset()) -> list[Opened] | None:
    """The block nodes that lead from `scope` to definition `block` (first found, in creation
    order), or None when no use of it is reachable."""
    for node_id in design.nodes(scope):
        node = design.node(node_id)
        if node.type != BLOCK_TYPE or node.params["block"] in seen:
            continue
        inner = node.params["block"]
        step = [Opened(inner, node_id)]
        if inner == block:
            return step
        deeper = _path_to(design, inner, block, seen | {scope})
        if deeper is not None:
            return step + deeper
    return None
