"""One wire drag: from an output, backwards from a free input, or a wire picked up from a
connected input. It judges each port it passes over (cached for the drag), shows the verdict on
the loose wire, and on release connects (pinning the error a mismatched tensor gives the layer
to the port), refuses (pinning the reason to the port), or reports a loose end."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF

from designer.canvas.connection_rules import connection_refusal, occupant, shape_problem
from designer.canvas.edge_item import WireItem
from designer.canvas.node_item import NodeItem
from designer.canvas.node_text import shape_text
from designer.canvas.port_item import INPUT, OUTPUT, PortItem
from designer.undo_commands import Connect, Disconnect, macro
from engine import Edge

if TYPE_CHECKING:
    from designer.canvas.scene import NetworkScene

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
    """A wire dropped on empty canvas: the port it hangs from and where it was let go."""

    node_id: str
    from_output: bool
    port: int
    scene_pos: QPointF


class WireDrag:
    """The state of one drag, from the press on a port to the release or Escape."""

    def __init__(self, scene: NetworkScene, port: PortItem, cursor: QPointF) -> None:
        self.scene = scene
        design = scene.design
        self.detached = occupant(design, port.node_id, port.index) if port.kind == INPUT else None
        self.port = port.index
        if port.kind == OUTPUT:
            self.node_id, self.from_output, anchor = port.node_id, True, port.scenePos()
        elif self.detached is not None:
            self.node_id, self.from_output = self.detached.src, True
            anchor = scene.nodes[self.detached.src].output_anchor()
            scene.edges[self.detached].setVisible(False)
        else:
            self.node_id, self.from_output, anchor = port.node_id, False, port.scenePos()
        self.report = scene.document.current_report()
        self._verdicts: dict[tuple[str, str, int], Verdict] = {}
        self.item = WireItem(scene.canvas_style, anchor, self.from_output)
        scene.addItem(self.item)
        self.item.follow(cursor, None, "")

    def move(self, cursor: QPointF) -> None:
        """Follow the cursor; over a port, show the shape that would flow, the error it would
        give the layer, or why it is refused."""
        target = self.target_at(cursor)
        if target is None:
            self.item.follow(cursor, None, "")
            return
        views = self.scene.views()
        visible = views[0].mapToScene(views[0].viewport().rect()).boundingRect() if views else None
        verdict = self.verdict(target)
        if verdict.refusal or verdict.problem:
            self.item.follow(cursor, False, verdict.note(), visible)
        else:
            src = self.ends(target)[0]
            self.item.follow(cursor, True, f"\u2192 {shape_text(self.report.info(src))}", visible)

    def release(self, cursor: QPointF) -> LooseEnd | None:
        """Finish: connect (or move the picked-up wire) as one undo step, refuse with the reason
        pinned to the port, disconnect a picked-up wire dropped on empty canvas, or return the
        loose end of a new wire dropped there. Released on its own card, nothing happens."""
        self.remove()
        scene = self.scene
        target = self.target_at(cursor)
        if target is None:
            if self._own_card_at(cursor):
                return None
            if self.detached is not None:
                scene.document.push(Disconnect(scene.design, self.detached))
                return None
            return LooseEnd(self.node_id, self.from_output, self.port, cursor)
        verdict = self.verdict(target)
        if verdict.refusal:
            scene.pin_note(target.anchor, verdict.note())
            return None
        src, dst, port = self.ends(target)
        if self.detached == Edge(src, dst, port):
            return None
        document = scene.document
        if self.detached is None:
            document.push(Connect(scene.design, src, dst, port))
        else:
            with macro(document.undo_stack, f"Move wire to {scene.design.node(dst).name}"):
                document.push(Disconnect(scene.design, self.detached))
                document.push(Connect(scene.design, src, dst, port))
        if verdict.problem:
            scene.pin_note(target.anchor, f"Connected, with an error: {verdict.problem}")
        return None

    def remove(self) -> None:
        """Take the loose wire away and show a picked-up wire again (release or cancel)."""
        if self.item.scene() is not None:
            self.scene.removeItem(self.item)
        if self.detached is not None and self.detached in self.scene.edges:
            self.scene.edges[self.detached].setVisible(True)

    def ends(self, target: Target) -> tuple[str, str, int]:
        """(src, dst, port) of the connection a release on `target` would make."""
        if self.from_output:
            return self.node_id, target.node_id, target.index
        return target.node_id, self.node_id, self.port

    def verdict(self, target: Target) -> Verdict:
        """What a release on `target` would do; judged once per port per drag."""
        key = (target.node_id, target.index)
        if key not in self._verdicts:
            src, dst, port = self.ends(target)
            design = self.scene.design
            if self.detached == Edge(src, dst, port):
                self._verdicts[key] = Verdict()
            elif refusal := connection_refusal(design, src, dst, port):
                self._verdicts[key] = Verdict(refusal=refusal)
            else:
                problem = shape_problem(design, self.report, src, dst, port)
                self._verdicts[key] = Verdict(problem=problem)
        return self._verdicts[key]

    def target_at(self, cursor: QPointF) -> Target | None:
        """Where a release here would attach: the nearest port of the other kind within reach,
        else the first free input (or the output) of the card under the cursor, or that card
        itself when it has no such port."""
        scene = self.scene
        wanted = INPUT if self.from_output else OUTPUT
        reach = PORT_PICK_RADIUS / max(scene.zoom(), 1e-3)
        area = QRectF(cursor.x() - reach, cursor.y() - reach, 2 * reach, 2 * reach)
        ports = [item for item in scene.items(area) if isinstance(item, PortItem)
                 and item.kind == wanted and item.node_id != self.node_id]
        if ports:
            return _at_port(min(ports, key=lambda p: (p.scenePos() - cursor).manhattanLength()))
        node = next((item for item in scene.items(cursor) if isinstance(item, NodeItem)), None)
        if node is None or node.node_id == self.node_id:
            return None
        if wanted == OUTPUT:
            port = node.output_port
            return _at_port(port) if port else Target(node.node_id, 0, node.output_anchor())
        free = [p for p in node.input_ports if not p.connected]
        port = (free or node.input_ports or [None])[0]
        return _at_port(port) if port else Target(node.node_id, 0, node.input_anchor(0))

    def _own_card_at(self, cursor: QPointF) -> bool:
        own = self.scene.nodes.get(self.node_id)
        return own is not None and own.sceneBoundingRect().contains(cursor)


def _at_port(port: PortItem) -> Target:
    return Target(port.node_id, port.index, port.scenePos())
