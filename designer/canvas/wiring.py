"""One wire drag: from an output, backwards from a free input, or a wire picked up from a
connected input. It judges each port it passes over (cached for the drag) and shows the verdict
on the loose wire. On release it says what it wants done (connect, perhaps with an error to pin
to the port; refuse, with the reason; unplug a picked-up wire; offer layers at a loose end) and
the scene does it: the drag never changes the design itself, so it needs no scene of its own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtWidgets import QGraphicsScene

from designer.canvas.connection_rules import connection_refusal, occupant, shape_problem
from designer.canvas.edge_item import WireItem
from designer.canvas.node_item import NodeItem
from designer.canvas.node_text import shape_text
from designer.canvas.port_item import INPUT, OUTPUT, PortItem
from designer.canvas.scene_views import visible_area, zoom_of
from designer.canvas.style import CanvasStyle
from engine import Design, Edge, Report

PORT_PICK_RADIUS = 12.0  # view pixels around the cursor in which a wire finds a port


@dataclass(frozen=True)
class Verdict:
    """What a release on one port would do: be refused (and why), or connect, perhaps giving
    the receiving layer an error (which the canvas then shows on it, with the fix)."""

    refusal: str | None = None
    problem: str | None = None

    def note(self) -> str:
        """The words beside the cursor while the wire hovers the port."""
        if self.refusal:
            return f"Refused: {self.refusal}"
        return f"Connects, with an error: {self.problem}" if self.problem else ""


@dataclass(frozen=True)
class Target:
    """Where a release would attach: a port, or a card lacking the port the wire needs (an
    Input has no inputs, an Output no output), where the release is refused."""

    node_id: str
    index: int
    anchor: QPointF  # the port, or where it would be on the card's edge


@dataclass(frozen=True)
class LooseEnd:
    """A new wire dropped on empty canvas: the port it hangs from (an output's index, or an
    input's) and where it was let go."""

    node_id: str
    from_output: bool
    port: int
    scene_pos: QPointF


@dataclass(frozen=True)
class Connection:
    """Connect `edge` (moving the picked-up wire `replaces` there, if any) as one undo step;
    `problem` is the error the connection gives the receiving layer, pinned at `anchor`."""

    edge: Edge
    replaces: Edge | None
    anchor: QPointF
    problem: str | None = None


@dataclass(frozen=True)
class Refusal:
    """Connect nothing; say why at the port."""

    anchor: QPointF
    note: str


@dataclass(frozen=True)
class Unplug:
    """A picked-up wire dropped on empty canvas: remove it."""

    edge: Edge


WireOutcome = Connection | Refusal | Unplug | LooseEnd | None   # None: nothing to do


class WireDrag:
    """The state of one drag, from the press on a port to the release or Escape. It adds its
    loose wire to the canvas and takes it away again; everything else is the scene's."""

    def __init__(self, canvas: QGraphicsScene, cards: Mapping[str, NodeItem], design: Design,
                 report: Report, style: CanvasStyle, port: PortItem, cursor: QPointF) -> None:
        self.canvas, self.cards, self.design, self.report = canvas, cards, design, report
        self.detached = occupant(design, port.node_id, port.index) if port.kind == INPUT else None
        self.port = port.index
        self.out = 0  # the output a wire from an output leaves
        if port.kind == OUTPUT:
            self.node_id, self.from_output, anchor = port.node_id, True, port.scenePos()
            self.out = port.index
        elif self.detached is not None:
            self.node_id, self.from_output = self.detached.src, True
            self.out = self.detached.out
            anchor = cards[self.detached.src].output_anchor(self.out)
        else:
            self.node_id, self.from_output, anchor = port.node_id, False, port.scenePos()
        self._verdicts: dict[tuple[str, int], Verdict] = {}
        self.item = WireItem(style, anchor, self.from_output)
        canvas.addItem(self.item)
        self.item.follow(cursor, None, "")

    def move(self, cursor: QPointF) -> None:
        """Follow the cursor; over a port, show the shape that would flow, the error it would
        give the layer, or why it is refused."""
        target = self.target_at(cursor)
        if target is None:
            self.item.follow(cursor, None, "")
            return
        visible = visible_area(self.canvas)
        verdict = self.verdict(target)
        if verdict.refusal or verdict.problem:
            self.item.follow(cursor, False, verdict.note(), visible)
        else:
            src, _, _, out = self.ends(target)
            self.item.follow(cursor, True, f"\u2192 {shape_text(self.report.info(src, out))}",
                             visible)

    def release(self, cursor: QPointF) -> WireOutcome:
        """Finish: what a release here asks for. Released on its own card, nothing; on empty
        canvas, unplug a picked-up wire or offer layers at the loose end of a new one."""
        self.remove()
        target = self.target_at(cursor)
        if target is None:
            if self._own_card_at(cursor):
                return None
            if self.detached is not None:
                return Unplug(self.detached)
            return LooseEnd(self.node_id, self.from_output,
                            self.out if self.from_output else self.port, cursor)
        verdict = self.verdict(target)
        if verdict.refusal:
            return Refusal(target.anchor, verdict.note())
        edge = Edge(*self.ends(target))
        if self.detached == edge:
            return None
        return Connection(edge, self.detached, target.anchor, verdict.problem)

    def remove(self) -> None:
        """Take the loose wire away (release or cancel)."""
        if self.item.scene() is not None:
            self.canvas.removeItem(self.item)

    def ends(self, target: Target) -> tuple[str, str, int, int]:
        """(src, dst, port, out) of the connection a release on `target` would make."""
        if self.from_output:
            return self.node_id, target.node_id, target.index, self.out
        return target.node_id, self.node_id, self.port, target.index

    def verdict(self, target: Target) -> Verdict:
        """What a release on `target` would do; judged once per port per drag."""
        key = (target.node_id, target.index)
        if key not in self._verdicts:
            src, dst, port, out = self.ends(target)
            if self.detached == Edge(src, dst, port, out):
                self._verdicts[key] = Verdict()
            elif refusal := connection_refusal(self.design, src, dst, port, out):
                self._verdicts[key] = Verdict(refusal=refusal)
            else:
                problem = shape_problem(self.design, self.report, src, dst, port, out)
                self._verdicts[key] = Verdict(problem=problem)
        return self._verdicts[key]

    def target_at(self, cursor: QPointF) -> Target | None:
        """Where a release here would attach: the nearest port of the other kind within reach,
        else the first free input (or the output) of the card under the cursor, or that card
        itself when it has no such port."""
        canvas = self.canvas
        wanted = INPUT if self.from_output else OUTPUT
        reach = PORT_PICK_RADIUS / max(zoom_of(canvas), 1e-3)
        area = QRectF(cursor.x() - reach, cursor.y() - reach, 2 * reach, 2 * reach)
        ports = [item for item in canvas.items(area) if isinstance(item, PortItem)
                 and item.kind == wanted and item.node_id != self.node_id]
        if ports:
            return _at_port(min(ports, key=lambda p: (p.scenePos() - cursor).manhattanLength()))
        node = next((item for item in canvas.items(cursor) if isinstance(item, NodeItem)), None)
        if node is None or node.node_id == self.node_id:
            return None
        if wanted == OUTPUT:
            port = node.output_port
            return _at_port(port) if port else Target(node.node_id, 0, node.output_anchor())
        free = [p for p in node.input_ports if not p.connected]
        port = (free or node.input_ports or [None])[0]
        return _at_port(port) if port else Target(node.node_id, 0, node.input_anchor(0))

    def _own_card_at(self, cursor: QPointF) -> bool:
        own = self.cards.get(self.node_id)
        return own is not None and own.sceneBoundingRect().contains(cursor)


def _at_port(port: PortItem) -> Target:
    return Target(port.node_id, port.index, port.scenePos())
