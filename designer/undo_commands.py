"""Undoable edits: each user action is one QUndoCommand that changes only the engine design.

Views follow the design's events, so a command never touches a graphics item.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from PySide6.QtGui import QUndoCommand, QUndoStack

from designer.design_diff import Snapshot, go
from engine import Design, DesignError, Edge, Node
from engine.blocks.grouping import free_name
from engine.design import output_ref

Result = TypeVar("Result")

MOVE_COMMAND_ID = 1001
PARAMS_COMMAND_ID = 1002


class AddNode(QUndoCommand):
    """Add one layer, optionally connected to existing outputs ((source, input port): a
    source is a node id or a (node id, output) pair) and inputs ((dst id, input port))."""

    def __init__(self, design: Design, layer_type: str, network: str, pos: tuple[float, float],
                 params: dict[str, Any] | None = None, name: str | None = None,
                 inputs: list[tuple[str | tuple[str, int], int]] | None = None,
                 outputs: list[tuple[str, int]] | None = None) -> None:
        super().__init__(f"Add {layer_type}")
        self.design = design
        self.layer_type, self.network, self.pos = layer_type, network, pos
        self.params, self.name = dict(params or {}), name
        self.inputs, self.outputs = list(inputs or []), list(outputs or [])
        self.node_id: str | None = None
        self._added_before = False   # the first redo picks the name; later redos keep it

    def redo(self) -> None:
        self.node_id = self.design.add(self.layer_type, name=self.name, network=self.network,
                                       pos=self.pos, node_id=self.node_id, **self.params)
        if not self._added_before:
            self._added_before = True
            self.name = self.design.node(self.node_id).name
        for source, port in self.inputs:
            src, out = output_ref(source)
            self.design.connect(src, self.node_id, port, out)
        for dst, port in self.outputs:
            self.design.connect(self.node_id, dst, port)

    def undo(self) -> None:
        self.design.remove(self.node_id)


class RemoveNodes(QUndoCommand):
    """Delete nodes and every edge touching them; undo restores ids, order and wiring."""

    def __init__(self, design: Design, node_ids: list[str]) -> None:
        count = len(node_ids)
        label = design.node(node_ids[0]).name if count == 1 else f"{count} nodes"
        super().__init__(f"Delete {label}")
        self.design = design
        self.nodes: list[tuple[Node, int]] = sorted(
            ((design.node(n), design.seq_of(n)) for n in node_ids), key=lambda item: item[1])
        edges: set[Edge] = set()
        for node_id in node_ids:
            edges.update(design.inputs_of(node_id))
            edges.update(design.outputs_of(node_id))
        self.edges = sorted(edges, key=lambda e: (e.dst, e.port, e.src))

    def redo(self) -> None:
        for node, _ in self.nodes:
            self.design.remove(node.id)

    def undo(self) -> None:
        for node, seq in self.nodes:
            self.design.restore(node, seq=seq)
        for edge in self.edges:
            self.design.connect(edge.src, edge.dst, edge.port, edge.out)


class Connect(QUndoCommand):
    """Connect output `out` of a node to an input port, replacing whatever fed that port
    before."""

    def __init__(self, design: Design, src: str, dst: str, port: int, out: int = 0) -> None:
        super().__init__(f"Connect {design.node(src).name} \u2192 {design.node(dst).name}")
        self.design, self.edge = design, Edge(src, dst, port, out)
        self.replaced = [e for e in design.inputs_of(dst) if e.port == port]

    def redo(self) -> None:
        for edge in self.replaced:
            self.design.disconnect(edge.src, edge.dst, edge.port)
        self.design.connect(self.edge.src, self.edge.dst, self.edge.port, self.edge.out)

    def undo(self) -> None:
        self.design.disconnect(self.edge.src, self.edge.dst, self.edge.port)
        for edge in self.replaced:
            self.design.connect(edge.src, edge.dst, edge.port, edge.out)


class Disconnect(QUndoCommand):
    def __init__(self, design: Design, edge: Edge) -> None:
        super().__init__(f"Disconnect {design.node(edge.src).name} \u2192 "
                         f"{design.node(edge.dst).name}")
        self.design, self.edge = design, edge

    def redo(self) -> None:
        self.design.disconnect(self.edge.src, self.edge.dst, self.edge.port)

    def undo(self) -> None:
        self.design.connect(self.edge.src, self.edge.dst, self.edge.port, self.edge.out)


class SetParams(QUndoCommand):
    """Change parameters of one node; successive edits of the same parameter merge."""

    def __init__(self, design: Design, node_id: str, values: dict[str, Any]) -> None:
        keys = ", ".join(values)
        super().__init__(f"Change {keys} of {design.node(node_id).name}")
        self.design, self.node_id = design, node_id
        current = design.node(node_id).params
        self.old = {key: current[key] for key in values}
        self.new = dict(values)

    def id(self) -> int:
        return PARAMS_COMMAND_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetParams) or other.node_id != self.node_id \
                or set(other.new) != set(self.new):
            return False
        self.new = dict(other.new)
        return True

    def redo(self) -> None:
        self.design.set_params(self.node_id, **self.new)

    def undo(self) -> None:
        self.design.set_params(self.node_id, **self.old)


class Rename(QUndoCommand):
    def __init__(self, design: Design, node_id: str, name: str) -> None:
        old = design.node(node_id).name
        super().__init__(f"Rename {old} to {name}")
        self.design, self.node_id, self.old, self.new = design, node_id, old, name

    def redo(self) -> None:
        self.design.rename(self.node_id, self.new)

    def undo(self) -> None:
        self.design.rename(self.node_id, self.old)


class MoveNodes(QUndoCommand):
    """Move nodes. Pushes that share a `drag_id` (one mouse drag) merge into one undo step."""

    def __init__(self, design: Design, positions: dict[str, tuple[float, float]],
                 drag_id: int | None = None) -> None:
        count = len(positions)
        label = design.node(next(iter(positions))).name if count == 1 else f"{count} nodes"
        super().__init__(f"Move {label}")
        self.design, self.drag_id = design, drag_id
        self.old = {n: design.node(n).pos for n in positions}
        self.new = {n: (float(x), float(y)) for n, (x, y) in positions.items()}

    def id(self) -> int:
        return MOVE_COMMAND_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, MoveNodes) or self.drag_id is None \
                or other.drag_id != self.drag_id or set(other.new) != set(self.new):
            return False
        self.new = dict(other.new)
        return True

    def redo(self) -> None:
        for node_id, pos in self.new.items():
            self.design.move(node_id, pos)

    def undo(self) -> None:
        for node_id, pos in self.old.items():
            self.design.move(node_id, pos)


class AddNodes(QUndoCommand):
    """Add copies of nodes with the edges among them (paste, duplicate) as one step.

    `nodes` carry the wanted name, parameters and position; their ids are only keys for
    `edges`. A taken name gets the next free number ("conv1" -> "conv3", "image" -> "image2").
    """

    def __init__(self, design: Design, network: str, nodes: list[Node], edges: list[Edge],
                 text: str) -> None:
        super().__init__(text)
        self.design, self.network = design, network
        self.nodes, self.edges = list(nodes), list(edges)
        self.new_ids: dict[str, str] = {}
        self.names: dict[str, str] = {}

    def redo(self) -> None:
        taken = {self.design.node(n).name for n in self.design.nodes(self.network)}
        for node in self.nodes:
            name = self.names.get(node.id) or free_name(node.name, taken)
            taken.add(name)
            self.names[node.id] = name
            self.new_ids[node.id] = self.design.add(
                node.type, name=name, network=self.network, pos=node.pos,
                node_id=self.new_ids.get(node.id), **node.params)
        for edge in self.edges:
            self.design.connect(self.new_ids[edge.src], self.new_ids[edge.dst], edge.port,
                                edge.out)

    def undo(self) -> None:
        for node in reversed(self.nodes):
            self.design.remove(self.new_ids[node.id])


class DesignEdit(QUndoCommand):
    """One undo step for an operation made of many Design edits (group into block, ungroup,
    add a built-in block): undo and redo go between the snapshots before and after it."""

    def __init__(self, design: Design, text: str, before: Snapshot, after: Snapshot) -> None:
        super().__init__(text)
        self.design, self.before, self.after = design, before, after
        self._done = True   # `run` made the edits; the push's first redo has nothing to do

    @classmethod
    def run(cls, design: Design, text: str,
            operation: Callable[[Design], Result]) -> tuple[DesignEdit, Result]:
        """Carry out `operation` now and return its undo step (to push) and its result. An
        operation that fails part-way is taken back before its error is raised."""
        before = Snapshot.of(design)
        try:
            result = operation(design)
        except Exception:
            go(design, Snapshot.of(design), before)
            raise
        return cls(design, text, before, Snapshot.of(design)), result

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        go(self.design, self.before, self.after)

    def undo(self) -> None:
        go(self.design, self.after, self.before)


def attempt(design: Design, push: Callable[[QUndoCommand], object], text: str,
            operation: Callable[[Design], object]) -> str | None:
    """Carry out `operation` as one undo step handed to `push`; the reason it was refused
    (a DesignError's message: nothing changed, nothing pushed), or None."""
    try:
        command, _ = DesignEdit.run(design, text, operation)
    except DesignError as err:
        return str(err)
    push(command)
    return None


@contextmanager
def macro(stack: QUndoStack, text: str) -> Iterator[None]:
    """Group the commands pushed inside the block into one undo step."""
    stack.beginMacro(text)
    try:
        yield
    finally:
        stack.endMacro()
