"""The scene of one network: items that mirror the design, and the edits made on them.

Items are created, updated and removed only in answer to the design's events (forwarded by the
document), one item at a time, so an edit never rebuilds the scene. User gestures (moving,
wiring, deleting, pasting) become undoable commands on the document's stack.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QTransform
from PySide6.QtWidgets import QApplication, QGraphicsItem, QGraphicsScene

from designer import clipboard
from designer.canvas.card_room import room_for_wider_card
from designer.canvas.connection_rules import input_port_count
from designer.canvas.deferred import Deferred, Shown
from designer.canvas.edge_item import LABEL_LOD, EdgeItem, WireItem
from designer.canvas.node_item import NodeItem, card_width, expected_card_size, texts_drawn
from designer.canvas.node_text import shape_text
from designer.canvas.placement import free_offset
from designer.canvas.port_item import PortItem
from designer.canvas.port_note import PortNote
from designer.canvas.scene_views import visible_area, zoom_of
from designer.canvas.style import CanvasStyle
from designer.canvas.wire_drop import WireGlow, fits_into_wire
from designer.canvas.wire_router import WireRouter
from designer.canvas.wiring import Connection, Refusal, Unplug, WireDrag, WireOutcome
from designer.document import DesignDocument
from designer.undo_commands import (
    AddNode,
    Connect,
    DesignEdit,
    Disconnect,
    MoveNodes,
    RemoveNodes,
    Rename,
    macro,
)
from engine import DesignError, Edge, Node, Problem, Report, events
from engine.blocks.library import add_built_in
from engine.layers import TensorInfo, get_layer
from engine.layers.block_node import BLOCK_TYPE
from engine.layout import layered_positions

_drag_ids = itertools.count(1)
DUPLICATE_OFFSET = QPointF(40.0, 40.0)
_UNLABELLED = object()   # a wire not labelled yet (None is a tensor not known)


@dataclass
class _MoveDrag:
    press: QPointF
    start: dict[str, tuple[float, float]]
    drag_id: int
    moved: bool = False


class NetworkScene(QGraphicsScene):
    """Items for one network of the document's design, kept in step with its events."""

    message = Signal(str)
    renameRequested = Signal(str)
    looseWireDropped = Signal(object)    # LooseEnd

    def __init__(self, document: DesignDocument, network: str, style: CanvasStyle,
                 parent=None) -> None:
        super().__init__(parent)
        self.document, self.network, self.canvas_style = document, network, style
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[Edge, EdgeItem] = {}
        self._edges_of: dict[str, set[Edge]] = {}
        # what each card and wire shows of the report, to touch only those that change
        self._shown_reports: dict[str, tuple] = {}
        self._shown_labels: dict[Edge, TensorInfo | None] = {}
        self._picked: set[Edge] = set()
        self._wire: WireDrag | None = None
        self._move: _MoveDrag | None = None
        self.port_note: PortNote | None = None
        self.drop_wire: Edge | None = None
        self.drop_glow: WireGlow | None = None
        self._syncing_selection = False
        self.router = WireRouter(self, self.nodes, self.edges)
        self._labels: Deferred[Edge, TensorInfo | None] = Deferred(self, self._set_label)
        self._cards: Deferred[str, tuple] = Deferred(self, self._show_card_report)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        document.designChanged.connect(self._on_design_event)
        document.reportChanged.connect(self.apply_report)
        document.selectionChanged.connect(self._select_from_document)
        self.selectionChanged.connect(self._selection_to_document)
        self.rebuild()

    @property
    def design(self):
        return self.document.design

    def detach(self) -> None:
        """Stop following the document (before the scene is dropped)."""
        self.document.designChanged.disconnect(self._on_design_event)
        self.document.reportChanged.disconnect(self.apply_report)
        self.document.selectionChanged.disconnect(self._select_from_document)

    # ------------------------------------------------------------------ following the design
    def rebuild(self) -> None:
        """Recreate every item (only after the whole design was replaced)."""
        self._wire = self._move = self.port_note = self.drop_wire = self.drop_glow = None
        self._syncing_selection = True
        self.clear()
        self._syncing_selection = False
        for node_id in self.nodes:
            self.router.remove_card(node_id)
        self.nodes.clear()
        self.edges.clear()
        self._edges_of.clear()
        self._shown_reports.clear()
        self._shown_labels.clear()
        self._labels.clear()
        self._cards.clear()
        self._picked.clear()
        if self.network not in self.design.networks and not self.design.is_block(self.network):
            return
        for node_id in self.design.nodes(self.network):
            self._add_node(node_id)
        for edge in self.design.edges(self.network):
            self._add_edge(edge)
        self.apply_report(self.document.report)
        self._select_from_document(self.document.selection)

    def _on_design_event(self, event: events.DesignEvent) -> None:
        self.clear_note()
        if isinstance(event, events.Reset):
            self.rebuild()
        elif isinstance(event, events.NetworkChange) and event.network == self.network:
            self.FOLLOW[type(event)](self, event)
        elif (isinstance(event, events.NodeAdded | events.NodeRemoved)
              and self.design.is_block(event.network)):
            self._follow_definition(event.network)

    def _follow_definition(self, block: str) -> None:
        """A definition gained or lost a node (an Input, say): its uses here show its ports."""
        for node_id, item in self.nodes.items():
            if item.block == block:
                self._refresh_ports(node_id)

    def _follow_params(self, event: events.ParamsChanged) -> None:
        """New parameters may change the card and its outputs (Chunk's chunks): the wires
        of an output that went stay, drawn from the first, and the check reports them."""
        item = self.nodes[event.node]
        item.set_params(self.design.node(event.node).params)
        item.set_output_names(self.design.output_names(event.node))
        self._refresh_ports(event.node)
        self._update_edges_of(event.node)

    def _follow_rename(self, event: events.NodeRenamed) -> None:
        item = self.nodes[event.node]
        before = item.card_rect()
        item.set_name(event.new)
        if item.card_rect() != before:
            self._update_edges_of(event.node)

    def _follow_move(self, event: events.NodeMoved) -> None:
        x, y = self.design.graph(self.network).nodes[event.node]["pos"]
        self.nodes[event.node].setPos(QPointF(x, y))
        self._update_edges_of(event.node)

    # How the items follow each change inside this network (a test checks every kind is here).
    FOLLOW: ClassVar[dict[type[events.NetworkChange], Callable[[NetworkScene, Any], None]]] = {
        events.NodeAdded: lambda scene, e: scene._add_node(e.node),
        events.NodeRemoved: lambda scene, e: scene._remove_node(e.node),
        events.EdgeAdded: lambda scene, e: scene._add_edge(Edge(e.src, e.dst, e.port, e.out)),
        events.EdgeRemoved: lambda scene, e: scene._remove_edge(
            Edge(e.src, e.dst, e.port, e.out)),
        events.ParamsChanged: _follow_params,
        events.NodeRenamed: _follow_rename,
        events.NodeMoved: _follow_move,
    }

    def _add_node(self, node_id: str) -> None:
        item = NodeItem(self.design.node(node_id), input_port_count(self.design, node_id),
                        self.canvas_style, self.design.output_names(node_id))
        self.nodes[node_id] = item
        self._edges_of[node_id] = set()
        self._shown_reports.pop(node_id, None)
        self._cards.drop(node_id)
        self.addItem(item)
        self.router.place_card(node_id)

    def _remove_node(self, node_id: str) -> None:
        item = self.nodes.pop(node_id)
        self._edges_of.pop(node_id, None)
        self._shown_reports.pop(node_id, None)
        self._cards.drop(node_id)
        self.router.remove_card(node_id)
        self.removeItem(item)

    def _add_edge(self, edge: Edge) -> None:
        item = EdgeItem(edge, self.canvas_style)
        self._shown_labels.pop(edge, None)
        self._label_edge(item, self.document.report.info(edge.src, edge.out), None)
        self.edges[edge] = item
        self._edges_of[edge.src].add(edge)
        self._edges_of[edge.dst].add(edge)
        self.addItem(item)
        self._refresh_ports(edge.dst)
        self._refresh_ports(edge.src)
        self._place_edge(item)

    def _remove_edge(self, edge: Edge) -> None:
        if edge == self.drop_wire:
            self.show_drop_wire(None)
        item = self.edges.pop(edge)
        self._shown_labels.pop(edge, None)
        self._picked.discard(edge)
        self._edges_of[edge.src].discard(edge)
        self._edges_of[edge.dst].discard(edge)
        self.removeItem(item)
        self._refresh_ports(edge.dst)
        self._refresh_ports(edge.src)

    def _refresh_ports(self, node_id: str) -> None:
        item = self.nodes[node_id]
        before = item.card_rect()
        item.set_input_port_count(input_port_count(self.design, node_id))
        edges = self._edges_of[node_id]
        item.set_connected_ports({e.port for e in edges if e.dst == node_id},
                                 {e.out for e in edges if e.src == node_id})
        if item.card_rect() != before:
            self._update_edges_of(node_id)

    def _place_edge(self, item: EdgeItem) -> None:
        """Join the wire's ports and have it routed, unless its ends are where they were (an
        edit that leaves the card's ports in place moves no wire)."""
        edge = item.edge
        start = self.nodes[edge.src].output_anchor(edge.out)
        end = self.nodes[edge.dst].input_anchor(edge.port)
        if item.route and item.ends() == ((start.x(), start.y()), (end.x(), end.y())):
            return
        item.set_ends(start, end)
        self.router.invalidate(item)

    def _update_edges_of(self, node_id: str) -> None:
        """The card moved or changed size: its wires follow it, the others avoid it."""
        self.router.place_card(node_id)
        for edge in self._edges_of.get(node_id, ()):
            self._place_edge(self.edges[edge])

    @property
    def wires_pending(self) -> bool:
        """Do wires still wait for their route or label, or cards for their report (they
        follow in later turns)?"""
        return self.router.pending or self._labels.pending or self._cards.pending

    def apply_report(self, report: Report) -> None:
        """Show new shapes, counts and problems. Only the cards whose part of the report
        changed are touched, and only their outgoing wires relabelled. Those the view does not
        draw now (off screen, or zoomed out past their text) follow a moment later
        (designer.canvas.deferred), except the cards the user looks at (selected or under the
        pointer) and a card's problems, which show at every zoom. After an edit most of a large
        design's report is the same objects as before (the check caches each node's result), so
        this costs little more than comparing them."""
        area, zoom = visible_area(self), self.zoom()
        cards_area = area if area is None or texts_drawn(self.canvas_style, zoom) else QRectF()
        labels_area = area if area is None or zoom >= LABEL_LOD else QRectF()
        cards_shown = Shown(self, cards_area)
        labels_shown = cards_shown if labels_area == cards_area else Shown(self, labels_area)
        problems: dict[str, list[Problem]] = {}
        for problem in report.problems:
            if problem.node in self.nodes:
                problems.setdefault(problem.node, []).append(problem)
        outputs, counts, inputs = report.output_infos, report.param_counts, report.input_infos
        shown_reports = self._shown_reports
        self._cards.clear()   # each card is weighed again against what it shows
        for node_id, item in self.nodes.items():
            part = (outputs.get(node_id, ()), counts.get(node_id), problems.get(node_id, []),
                    inputs.get(node_id, []))
            before = shown_reports.get(node_id)
            if before == part:
                continue
            if (before is not None and before[2] == part[2] and not item.attended
                    and item not in cards_shown):
                self._cards.put(node_id, part)
            else:
                self._show_card_report(node_id, part)
            if before is None or before[0] != part[0]:
                for edge in self._edges_of[node_id]:
                    if edge.src == node_id:
                        self._label_edge(self.edges[edge], report.info(edge.src, edge.out),
                                         labels_shown)

    def _show_card_report(self, node_id: str, part: tuple) -> None:
        """The card shows its part of the report; its wires follow a change of its size."""
        item = self.nodes.get(node_id)
        if item is None:
            return
        self._shown_reports[node_id] = part
        size = (item.width, item.height)
        item.apply_report(*part)
        if (item.width, item.height) != size:
            self._update_edges_of(node_id)

    def _label_edge(self, item: EdgeItem, info: TensorInfo | None, shown: Shown | None) -> None:
        """Label the wire with the tensor it carries (its text is worked out only when the
        tensor changed): at once when it shows within `shown` (None: anywhere), else later."""
        edge = item.edge
        if self._shown_labels.get(edge, _UNLABELLED) != info:
            self._shown_labels[edge] = info
            if shown is None or item in shown:
                self._labels.drop(edge)
                item.set_label(shape_text(info))
            else:
                self._labels.put(edge, info)

    def _set_label(self, edge: Edge, info: TensorInfo | None) -> None:
        if edge in self.edges:
            self.edges[edge].set_label(shape_text(info))

    def highlight_nodes(self, node_ids: list[str], colour: QColor | None) -> None:
        """Ring the cards of `node_ids` (those in this network) in `colour`; clear the rest."""
        for node_id, item in self.nodes.items():
            item.set_highlight(colour if node_id in node_ids else None)

    def set_style(self, style: CanvasStyle) -> None:
        self.canvas_style = style
        for node_id, item in self.nodes.items():
            item.set_style(style)
            self.router.place_card(node_id)
        for item in self.edges.values():
            item.set_style(style)
            self._place_edge(item)
        self.update()

    # ------------------------------------------------------------------ selection
    def selected_ids(self) -> list[str]:
        ids = [item.node_id for item in self.selectedItems() if isinstance(item, NodeItem)]
        return sorted(ids, key=self.design.seq_of)

    def selected_edges(self) -> list[Edge]:
        """Wires picked by clicking them (Ctrl-click adds)."""
        return sorted(self._picked, key=lambda e: (e.dst, e.port, e.src))

    def pick_edge(self, edge: Edge, additive: bool = False) -> None:
        if not additive:
            self.select_nodes([])
            self._unpick_all()
        if edge in self._picked and additive:
            self._picked.discard(edge)
            self.edges[edge].set_picked(False)
        elif edge in self.edges:
            self._picked.add(edge)
            self.edges[edge].set_picked(True)

    def _unpick_all(self) -> None:
        for edge in self._picked:
            self.edges[edge].set_picked(False)
        self._picked.clear()

    def mousePressEvent(self, event) -> None:
        """A left press on a port starts a wire drag, which the scene follows until the
        release; any other press goes to the items (cards move, wires are picked)."""
        self.clear_note()
        top = self.itemAt(event.scenePos(), QTransform())
        if isinstance(top, PortItem) and event.button() == Qt.MouseButton.LeftButton:
            self.begin_wire(top, event.scenePos())
            event.accept()
            return
        if not isinstance(top, EdgeItem) and \
                not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self._unpick_all()
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._wire is None:
            super().mouseMoveEvent(event)
            return
        self.drag_wire(event.scenePos())
        event.accept()

    def mouseReleaseEvent(self, event) -> None:
        if self._wire is None or event.button() != Qt.MouseButton.LeftButton:
            super().mouseReleaseEvent(event)
            return
        self.end_wire(event.scenePos())
        event.accept()

    def select_nodes(self, node_ids: list[str]) -> None:
        """Select exactly these nodes (and tell the document)."""
        self._show_selection(node_ids)
        self._selection_to_document()

    def _show_selection(self, node_ids: list[str]) -> None:
        """Select exactly these nodes without echoing the change back to the document."""
        wanted = set(node_ids)
        self._syncing_selection = True
        try:
            for item in self.selectedItems():
                if not (isinstance(item, NodeItem) and item.node_id in wanted):
                    item.setSelected(False)
            for node_id in wanted:
                if node_id in self.nodes:
                    self.nodes[node_id].setSelected(True)
        finally:
            self._syncing_selection = False

    def _selection_to_document(self) -> None:
        if self._syncing_selection or self.network != self.document.scope:
            return
        self._syncing_selection = True
        try:
            self.document.set_selection(self.selected_ids())
        finally:
            self._syncing_selection = False

    def _select_from_document(self, node_ids: list[str]) -> None:
        if not self._syncing_selection:
            self._show_selection(node_ids)

    def items_rect(self, node_ids: list[str] | None = None) -> QRectF:
        """The scene rectangle around these nodes (all when None), edge labels included."""
        ids = self.nodes if node_ids is None else [n for n in node_ids if n in self.nodes]
        rect = QRectF()
        for node_id in ids:
            rect = rect.united(self.nodes[node_id].sceneBoundingRect())
        if node_ids is None:
            for item in self.edges.values():
                rect = rect.united(item.sceneBoundingRect())
        return rect

    # ------------------------------------------------------------------ moving nodes
    def begin_move(self, press: QPointF) -> None:
        ids = self.selected_ids()
        self._move = _MoveDrag(press, {n: self.design.node(n).pos for n in ids}, next(_drag_ids))

    def drag_move(self, cursor: QPointF) -> None:
        """Move the selection with the cursor: every step goes into the design, and the whole
        drag merges into one undo step (one drag id)."""
        move = self._move
        if move is None or not move.start:
            return
        delta = cursor - move.press
        if not move.moved:
            threshold = QApplication.startDragDistance() / max(self.zoom(), 1e-3)
            if delta.manhattanLength() < threshold:
                return
            move.moved = True
        positions = {n: (round(x + delta.x()), round(y + delta.y()))
                     for n, (x, y) in move.start.items()}
        self.document.push(MoveNodes(self.design, positions, drag_id=move.drag_id))

    def end_move(self) -> None:
        self._move = None

    def zoom(self) -> float:
        """The zoom of the view showing this scene (1 when there is none)."""
        return zoom_of(self)

    # ------------------------------------------------------------------ wiring
    @property
    def loose_wire(self) -> WireItem | None:
        """The wire following the cursor during a drag (with its verdict and note), if any."""
        return self._wire.item if self._wire else None

    def begin_wire(self, port: PortItem, cursor: QPointF) -> None:
        """Start a wire drag at a port; a wire picked up from an input hides while it moves."""
        self.cancel_wire()
        self._wire = WireDrag(self, self.nodes, self.design, self.document.current_report(),
                              self.canvas_style, port, cursor)
        self._show_picked_up_wire(False)

    def drag_wire(self, cursor: QPointF) -> None:
        if self._wire is not None:
            self._wire.move(cursor)

    def end_wire(self, cursor: QPointF) -> None:
        """Release the wire and do what the drag asks for."""
        if self._wire is None:
            return
        outcome = self._wire.release(cursor)
        self._show_picked_up_wire(True)
        self._wire = None
        self._carry_out(outcome)

    def cancel_wire(self) -> bool:
        """Drop the wire being dragged without changing anything (Escape); False if none."""
        if self._wire is None:
            return False
        self._wire.remove()
        self._show_picked_up_wire(True)
        self._wire = None
        return True

    def _show_picked_up_wire(self, shown: bool) -> None:
        detached = self._wire.detached if self._wire else None
        if detached is not None and detached in self.edges:
            self.edges[detached].setVisible(shown)

    def _carry_out(self, outcome: WireOutcome) -> None:
        """Connect (or move the picked-up wire) as one undo step, refuse with the reason
        pinned to the port, unplug, or offer layers at a loose end."""
        match outcome:
            case Refusal(anchor, note):
                self.pin_note(anchor, note)
            case Unplug(edge):
                self.document.push(Disconnect(self.design, edge))
            case Connection():
                self._connect(outcome)
            case None:
                pass
            case loose:
                self.looseWireDropped.emit(loose)

    def _connect(self, connection: Connection) -> None:
        edge, document = connection.edge, self.document
        if connection.replaces is None:
            document.push(Connect(self.design, edge.src, edge.dst, edge.port, edge.out))
        else:
            with macro(document.undo_stack, f"Move wire to {self.design.node(edge.dst).name}"):
                document.push(Disconnect(self.design, connection.replaces))
                document.push(Connect(self.design, edge.src, edge.dst, edge.port, edge.out))
        if connection.problem:
            self.pin_note(connection.anchor, f"Connected, with an error: {connection.problem}")

    # ------------------------------------------------------------------ notes at ports
    def pin_note(self, port_pos: QPointF, text: str) -> None:
        """Show `text` at a port (a scene point) until the next action, and in the status bar."""
        self.clear_note()
        self.port_note = PortNote(self.canvas_style, port_pos, text)
        visible = visible_area(self)
        if visible is not None:
            self.port_note.keep_within(visible, self.zoom())
        self.addItem(self.port_note)
        self.message.emit(text)

    def clear_note(self) -> None:
        """The user acted: the note pinned to a port has been read."""
        note, self.port_note = self.port_note, None
        if note is not None and note.scene() is self:
            self.removeItem(note)

    # ------------------------------------------------------------------ drops on wires
    def wire_for_drop(self, layer_type: str, point: QPointF, reach: float) -> Edge | None:
        """The wire a layer dropped at `point` would be inserted into: one passing within
        `reach` (scene units) and not under a card, when the layer fits into a wire."""
        if not fits_into_wire(layer_type) or isinstance(self.item_at(point), NodeItem):
            return None
        area = QRectF(point.x() - reach, point.y() - reach, 2 * reach, 2 * reach)
        return next((item.edge for item in self.items(area) if isinstance(item, EdgeItem)),
                    None)

    def show_drop_wire(self, edge: Edge | None) -> None:
        """Make the wire a drop would split glow (None: no wire glows)."""
        if edge == self.drop_wire:
            return
        if self.drop_glow is not None:
            self.removeItem(self.drop_glow)
        self.drop_wire, self.drop_glow = edge, None
        if edge is not None:
            item = self.edges[edge]
            self.drop_glow = WireGlow(self.canvas_style, item.mapToScene(item.shape()))
            self.addItem(self.drop_glow)

    # ------------------------------------------------------------------ placing and editing
    def card_rects(self) -> list[QRectF]:
        """The scene rectangles of every card in this network."""
        return [item.mapRectToScene(item.card_rect()) for item in self.nodes.values()]

    def clear_of_cards(self, nodes: list[Node]) -> list[Node]:
        """The nodes shifted together, as little as needed, so none lands on a card here."""
        box = QRectF()
        for node in nodes:
            box = box.united(QRectF(QPointF(*node.pos),
                                    expected_card_size(self.canvas_style, node.type, node.name)))
        shift = free_offset(box, self.card_rects())
        return [Node(n.id, n.type, n.name, n.params,
                     (round(n.pos[0] + shift.x()), round(n.pos[1] + shift.y())), n.network)
                for n in nodes]

    def add_layer(self, layer_type: str, pos: QPointF,
                  inputs: list[tuple[str | tuple[str, int], int]] = (),
                  outputs: list[tuple[str, int]] = ()) -> str | None:
        """Add a layer (one undo step) at the free spot nearest to `pos`, optionally wired
        (inputs: (source, port), a source being a node or a (node, output) pair), and select
        it; an unknown type (say, from another program's drag) is refused with the
        catalogue's message."""
        try:
            get_layer(layer_type)
        except DesignError as err:
            self.message.emit(str(err))
            return None
        # a new card is named after its type and a number
        planned = Node("", layer_type, f"{layer_type.lower()}1", {}, (pos.x(), pos.y()),
                       self.network)
        (placed,) = self.clear_of_cards([planned])
        command = AddNode(self.design, layer_type, self.network, placed.pos,
                          inputs=list(inputs), outputs=list(outputs))
        self.document.push(command)
        self.select_nodes([command.node_id])
        return command.node_id

    def add_block(self, block: str, pos: QPointF) -> str | None:
        """Add a node that uses `block` at the free spot nearest to `pos`, and select it, as
        one undo step: a built-in block not yet in the design is copied in first."""
        planned = Node("", BLOCK_TYPE, "block1", {}, (pos.x(), pos.y()), self.network)
        (placed,) = self.clear_of_cards([planned])

        def add(design) -> str:
            name = block if block in design.blocks else add_built_in(design, block)
            return design.add(BLOCK_TYPE, network=self.network, pos=placed.pos, block=name)

        try:
            command, node_id = DesignEdit.run(self.design, f"Add block {block}", add)
        except DesignError as err:
            self.message.emit(f"Cannot add block {block!r}: {err}")
            return None
        self.document.push(command)
        self.select_nodes([node_id])
        return node_id

    def rename(self, node_id: str, text: str) -> str | None:
        """Rename a node (one undo step, with the moves that make room for its card if the
        name widens it over a neighbour); returns why not when the name is taken here."""
        name = text.strip()
        if not self.design.has_node(node_id) or not name or \
                name == self.design.node(node_id).name:
            return None
        problem = self.design.rename_problem(node_id, name)
        if problem:
            return problem
        node = self.design.node(node_id)
        others = {n: item.mapRectToScene(item.card_rect()) for n, item in self.nodes.items()
                  if n != node_id}
        card = self.nodes[node_id]
        shifts = room_for_wider_card(card.mapRectToScene(card.card_rect()),
                                     card_width(self.canvas_style, name, node.type), others)
        with macro(self.document.undo_stack, f"Rename {node.name} to {name}"):
            self.document.push(Rename(self.design, node_id, name))
            if shifts:
                self.document.push(MoveNodes(self.design, {
                    n: (self.design.node(n).pos[0] + dx, self.design.node(n).pos[1])
                    for n, dx in shifts.items()}))
        return None

    def insert_layer(self, layer_type: str, edge: Edge, pos: QPointF) -> str | None:
        """Splice a new layer into a wire at the free spot nearest to `pos`, as one undo step;
        a layer that cannot split a wire is refused with the reason."""
        if not fits_into_wire(layer_type):
            self.message.emit(f"{layer_type} cannot be inserted into a wire: it needs an input "
                              "and an output")
            return None
        name = self.design.node(edge.dst).name
        with macro(self.document.undo_stack, f"Insert {layer_type} before {name}"):
            self.document.push(Disconnect(self.design, edge))
            return self.add_layer(layer_type, pos, inputs=[((edge.src, edge.out), 0)],
                                  outputs=[(edge.dst, edge.port)])

    def delete_selection(self) -> None:
        """Delete the selected nodes and the picked wires between other nodes, in one step."""
        nodes, edges = self.selected_ids(), self.selected_edges()
        edges = [e for e in edges if e.src not in nodes and e.dst not in nodes]
        commands = [Disconnect(self.design, e) for e in edges]
        commands += [RemoveNodes(self.design, nodes)] if nodes else []
        if len(commands) == 1:
            self.document.push(commands[0])
        elif commands:
            with macro(self.document.undo_stack, "Delete selection"):
                for command in commands:
                    self.document.push(command)

    def duplicate_selection(self) -> None:
        ids = self.selected_ids()
        if not ids:
            return
        command = clipboard.duplicate_command(self.design, ids, DUPLICATE_OFFSET,
                                              fit=self.clear_of_cards)
        self.document.push(command)
        self.select_nodes(list(command.new_ids.values()))

    def copy_selection(self) -> bool:
        ids = self.selected_ids()
        if not ids:
            self.message.emit("Select layers to copy")
            return False
        clipboard.copy_to_clipboard(self.design, ids)
        self.message.emit(f"Copied {len(ids)} layer{'s' if len(ids) > 1 else ''}")
        return True

    def cut_selection(self) -> None:
        ids = self.selected_ids()
        if ids and self.copy_selection():
            command = RemoveNodes(self.design, ids)
            command.setText(command.text().replace("Delete", "Cut", 1))
            self.document.push(command)

    def paste(self, top_left: QPointF) -> None:
        text = clipboard.clipboard_json()
        if text is None:
            self.message.emit("The clipboard holds no layers to paste")
            return
        try:
            command = clipboard.paste_command(self.design, self.network, text, top_left,
                                              fit=self.clear_of_cards)
        except DesignError as err:
            self.message.emit(f"Cannot paste: {err}")
            return
        self.document.push(command)
        self.select_nodes(list(command.new_ids.values()))

    def open_block(self, node_id: str) -> None:
        """Show the definition a block node here uses (double-click, Open Block)."""
        self.document.open_block(node_id)

    def select_all(self) -> None:
        self.select_nodes(list(self.nodes))

    def auto_layout(self) -> None:
        """Arrange the network in columns from inputs to outputs, as one undo step."""
        if not self.nodes:
            return
        positions = layered_positions(self.design, self.network, *self.router.layout_hints())
        command = MoveNodes(self.design, positions)
        command.setText("Auto layout")
        self.document.push(command)

    def item_at(self, pos: QPointF) -> QGraphicsItem | None:
        """The node or edge under a scene point (ports and badges count as their node)."""
        for item in self.items(pos):
            if isinstance(item, (NodeItem, EdgeItem)):
                return item
            if isinstance(item.parentItem(), NodeItem):
                return item.parentItem()
        return None
