"""The design: named networks of layers plus training settings; the one truth every view reads.

Each network is a networkx MultiDiGraph. Nodes carry `type`, `name`, `params`, `pos` and `seq`
(creation order, which fixes the order of a network's Inputs and Outputs); an edge runs from a
node's output to input `port` of another node and is keyed by that port.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import networkx as nx

from engine.errors import DesignError
from engine.events import (
    DesignEvents,
    EdgeAdded,
    EdgeRemoved,
    NameChanged,
    NetworkAdded,
    NetworkRemoved,
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    NodeRenamed,
    ParamsChanged,
    Reset,
    TrainingChanged,
)
from engine.layers import get_layer
from engine.fields import unknown_key_problem
from engine.limits import (
    LONGEST_NAME,
    LONGEST_TEXT,
    port_problem,
    position_problem,
    text_problem,
    text_value_problem,
)
from engine.quoting import excerpt

DEFAULT_NETWORK = "model"
_GENERATED_ID = re.compile(r"n(\d+)$")


@dataclass(frozen=True)
class Node:
    """A read-only snapshot of one node."""

    id: str
    type: str
    name: str
    params: dict[str, Any]
    pos: tuple[float, float]
    network: str


@dataclass(frozen=True)
class Edge:
    """A connection from `src`'s output to input `port` of `dst`."""

    src: str
    dst: str
    port: int


class Design:
    """One or more named networks plus training settings, with change events.

    Editing accepts incomplete designs; it refuses only what cannot be stored (unknown layer
    types or nodes, parameters that do not exist or have the wrong type).
    """

    def __init__(self, name: str = "untitled", networks: Iterable[str] = (DEFAULT_NETWORK,)) -> None:
        self.name = name
        self.description = ""
        # A template's teaching card: "purpose", "structure", "try", "pitfall" (plain text).
        self.card: dict[str, str] = {}
        self._graphs: dict[str, nx.MultiDiGraph] = {}
        self._network_of: dict[str, str] = {}
        self._seq = 0
        self._last_number = 0
        self.training: dict[str, Any] = {}
        self.events = DesignEvents()
        for network in networks:
            self.add_network(network)

    # ------------------------------------------------------------------ queries
    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, name: str) -> None:
        """Refuses what is not a text or longer than LONGEST_NAME (DesignError)."""
        self._name = _checked_text(name, "the design's name", LONGEST_NAME)

    @property
    def description(self) -> str:
        return self._description

    @description.setter
    def description(self, text: str) -> None:
        """Refuses what is not a text or longer than LONGEST_TEXT (DesignError)."""
        self._description = _checked_text(text, "the description", LONGEST_TEXT)

    @property
    def networks(self) -> list[str]:
        return list(self._graphs)

    def default_network(self) -> str | None:
        """The network meant when none is named: DEFAULT_NETWORK, else the only one; None
        when several networks leave the choice open (each caller says how to make it)."""
        if DEFAULT_NETWORK in self._graphs:
            return DEFAULT_NETWORK
        return self.networks[0] if len(self._graphs) == 1 else None

    def graph(self, network: str = DEFAULT_NETWORK) -> nx.MultiDiGraph:
        """The network's graph; read it, never edit it directly (edits must emit events)."""
        return self._graph(network)

    def nodes(self, network: str = DEFAULT_NETWORK) -> list[str]:
        """Node ids of a network in creation order."""
        graph = self._graph(network)
        return sorted(graph.nodes, key=lambda n: graph.nodes[n]["seq"])

    def node(self, node_id: str) -> Node:
        network = self.network_of(node_id)
        data = self._graphs[network].nodes[node_id]
        return Node(node_id, data["type"], data["name"], copy.deepcopy(data["params"]),
                    data["pos"], network)

    def network_of(self, node_id: str) -> str:
        try:
            return self._network_of[node_id]
        except KeyError:
            raise DesignError(f"there is no node {node_id!r}") from None

    def has_node(self, node_id: str) -> bool:
        return node_id in self._network_of

    def edges(self, network: str = DEFAULT_NETWORK) -> list[Edge]:
        return [Edge(src, dst, port) for src, dst, port in self._graph(network).edges(keys=True)]

    def inputs_of(self, node_id: str) -> list[Edge]:
        """Edges into a node, by port."""
        graph = self._graph(self.network_of(node_id))
        edges = [Edge(src, node_id, port) for src, _, port in graph.in_edges(node_id, keys=True)]
        return sorted(edges, key=lambda e: (e.port, e.src))

    def outputs_of(self, node_id: str) -> list[Edge]:
        graph = self._graph(self.network_of(node_id))
        return [Edge(node_id, dst, port) for _, dst, port in graph.out_edges(node_id, keys=True)]

    def find(self, name: str, network: str | None = None) -> str:
        """The id of the node with this display name (for scripts)."""
        for net in [network] if network else self.networks:
            for node_id in self.nodes(net):
                if self._graphs[net].nodes[node_id]["name"] == name:
                    return node_id
        raise DesignError(f"there is no node named {name!r}")

    def connection_problem(self, src: str, dst: str, port: int = 0) -> str | None:
        """Why connecting src to dst's port would be refused or be wrong, or None if fine.

        The GUI asks this before it connects; `connect` refuses the first kinds itself.
        """
        problem = self._storage_problem(src, dst, port)
        if problem:
            return problem
        graph = self._graph(self.network_of(dst))
        if any(p == port for _, _, p in graph.in_edges(dst, keys=True)):
            return f"input {port} of {self._label(dst)} is already connected"
        if src == dst or nx.has_path(graph, dst, src):
            return f"connecting {self._label(src)} to {self._label(dst)} would make a cycle"
        return None

    # ------------------------------------------------------------------ editing
    def add(self, layer_type: str, *inputs: str, name: str | None = None,
            network: str = DEFAULT_NETWORK, pos: tuple[float, float] | None = None,
            node_id: str | None = None, **params: Any) -> str:
        """Add a layer, connect `inputs` to its ports 0, 1, ... in order, return its id."""
        spec = get_layer(layer_type)
        graph = self._graph(network)
        if name is not None:
            _check_name(name)
        values = spec.defaults()
        values.update(self._coerced(layer_type, params))
        if node_id is None:
            node_id = self._new_id()
        elif node_id in self._network_of:
            raise DesignError(f"a node with id {node_id!r} already exists")
        elif not isinstance(node_id, str) or not node_id:
            raise DesignError(f"a node id must be a non-empty text, not {excerpt(node_id)}")
        else:
            _checked_text(node_id, "a node's id", LONGEST_NAME)
        self._note_id(node_id)
        self._seq += 1
        graph.add_node(node_id, type=layer_type, name=name or self._default_name(network, layer_type),
                       params=values, pos=_position(pos), seq=self._seq)
        self._network_of[node_id] = network
        self.events.emit(NodeAdded(network, node_id))
        for port, src in enumerate(inputs):
            self.connect(src, node_id, port)
        return node_id

    def restore(self, node: Node, edges: Iterable[Edge] = (), seq: int | None = None) -> None:
        """Put back a removed node and its edges exactly as they were (for undo)."""
        self.add(node.type, name=node.name, network=node.network, pos=node.pos, node_id=node.id,
                 **node.params)
        if seq is not None:
            self._graphs[node.network].nodes[node.id]["seq"] = seq
        for edge in edges:
            self.connect(edge.src, edge.dst, edge.port)

    def seq_of(self, node_id: str) -> int:
        return self._graph(self.network_of(node_id)).nodes[node_id]["seq"]

    def remove(self, node_id: str) -> None:
        """Remove a node and every edge touching it."""
        network = self.network_of(node_id)
        graph = self._graphs[network]
        for edge in dict.fromkeys(self.inputs_of(node_id) + self.outputs_of(node_id)):  # a loop
            self.disconnect(edge.src, edge.dst, edge.port)  # onto itself is listed twice
        graph.remove_node(node_id)
        del self._network_of[node_id]
        self.events.emit(NodeRemoved(network, node_id))

    def connect(self, src: str, dst: str, port: int = 0) -> None:
        """Connect src's output to dst's input `port`.

        Refuses only what cannot be stored; a second edge into a port or a cycle is stored and
        reported by `check`, so the canvas can be edited one step at a time.
        """
        problem = self._storage_problem(src, dst, port)
        if problem:
            raise DesignError(problem)
        network = self._network_of[dst]
        self._graphs[network].add_edge(src, dst, key=port)
        self.events.emit(EdgeAdded(network, src, dst, port))

    def disconnect(self, src: str, dst: str, port: int = 0) -> None:
        network = self.network_of(dst)
        graph = self._graphs[network]
        if not graph.has_edge(src, dst, key=port):
            raise DesignError(f"there is no connection from {self._label(src)} to input {port} "
                              f"of {self._label(dst)}")
        graph.remove_edge(src, dst, key=port)
        self.events.emit(EdgeRemoved(network, src, dst, port))

    def set_params(self, node_id: str, **params: Any) -> None:
        network = self.network_of(node_id)
        data = self._graphs[network].nodes[node_id]
        values = self._coerced(data["type"], params, node_id)
        old = {key: data["params"][key] for key in values}
        data["params"].update(values)
        self.events.emit(ParamsChanged(network, node_id, old, dict(values)))

    def rename_problem(self, node_id: str, name: str) -> str | None:
        """Why `node_id` cannot be renamed to `name` (empty, too long, taken in its network),
        or None: every editor asks this before it pushes a rename."""
        problem = node_name_problem(name)
        if problem:
            return problem[0].upper() + problem[1:]
        network = self.network_of(node_id)
        if any(self.node(n).name == name for n in self.nodes(network) if n != node_id):
            return f"A layer named {name!r} already exists in {network!r}; names must differ"
        return None

    def rename(self, node_id: str, name: str) -> None:
        _check_name(name)
        network = self.network_of(node_id)
        data = self._graphs[network].nodes[node_id]
        old, data["name"] = data["name"], name
        self.events.emit(NodeRenamed(network, node_id, old, name))

    def move(self, node_id: str, pos: tuple[float, float]) -> None:
        network = self.network_of(node_id)
        self._graphs[network].nodes[node_id]["pos"] = _position(pos)
        self.events.emit(NodeMoved(network, node_id))

    def add_network(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise DesignError("a network's name must be a non-empty text")
        _checked_text(name, "a network's name", LONGEST_NAME)
        if name in self._graphs:
            raise DesignError(f"there is already a network named {name!r}")
        self._graphs[name] = nx.MultiDiGraph()
        self.events.emit(NetworkAdded(name))

    def remove_network(self, name: str) -> None:
        for node_id in self.nodes(name):
            self.remove(node_id)
        del self._graphs[name]
        self.events.emit(NetworkRemoved(name))

    def set_training(self, **values: Any) -> None:
        """Update training settings (validated by the training engine when a run starts)."""
        self.training.update(copy.deepcopy(values))
        self.events.emit(TrainingChanged(dict(values)))

    def unset_training(self, *keys: str) -> None:
        """Remove training settings, so their defaults apply again (undoing a first edit)."""
        for key in keys:
            self.training.pop(key, None)
        self.events.emit(TrainingChanged(removed=keys))

    def set_name(self, name: str) -> None:
        self.name = name
        self.events.emit(NameChanged())

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description; equal designs give equal dicts."""
        networks = {}
        for network in self.networks:
            spec_of = {n: get_layer(self._graphs[network].nodes[n]["type"])
                       for n in self.nodes(network)}
            networks[network] = {
                "nodes": [self._node_dict(network, n, spec_of[n]) for n in self.nodes(network)],
                "edges": [{"src": e.src, "dst": e.dst, "port": e.port}
                          for e in sorted(self.edges(network),
                                          key=lambda e: (self.seq_of(e.dst), e.port, e.src))],
            }
        document = {"name": self.name, "description": self.description}
        if self.card:
            document["card"] = dict(self.card)
        document.update(networks=networks, training=copy.deepcopy(self.training))
        return document

    def _node_dict(self, network: str, node_id: str, spec) -> dict[str, Any]:
        data = self._graphs[network].nodes[node_id]
        params = {key: spec.param_index[key].to_json(value) for key, value in data["params"].items()}
        return {"id": node_id, "type": data["type"], "name": data["name"], "params": params,
                "pos": list(data["pos"])}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Design:
        """Build a design from `to_dict` output (validated beforehand by engine.fileformat)."""
        design = cls(data.get("name", "untitled"), networks=())
        design.description = data.get("description", "")
        design.card = dict(data.get("card", {}))
        for network, content in data["networks"].items():
            design.add_network(network)
            for node in content["nodes"]:
                design.add(node["type"], name=node["name"], network=network,
                           pos=tuple(node["pos"]), node_id=node["id"], **node.get("params", {}))
            for edge in content["edges"]:
                design.connect(edge["src"], edge["dst"], edge.get("port", 0))
        design.training = copy.deepcopy(data.get("training", {}))
        return design

    def copy(self) -> Design:
        """An independent copy (without listeners), e.g. the snapshot a training run keeps."""
        return Design.from_dict(self.to_dict())

    def replace_with(self, other: Design) -> None:
        """Take over another design's content in place, keeping listeners (after load)."""
        self.name, self.description = other.name, other.description
        self.card = other.card
        self._graphs, self._network_of = other._graphs, other._network_of
        self._seq, self.training = other._seq, other.training
        self._last_number = other._last_number
        self.events.emit(Reset())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Design) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        sizes = ", ".join(f"{n}: {len(self._graphs[n])} nodes" for n in self.networks)
        return f"<Design {self.name!r} ({sizes})>"

    # ------------------------------------------------------------------ helpers
    def _graph(self, network: str) -> nx.MultiDiGraph:
        try:
            return self._graphs[network]
        except KeyError:
            raise DesignError(f"there is no network named {network!r}; the design has "
                              f"{', '.join(self._graphs) or 'none'}") from None

    def _coerced(self, layer_type: str, params: dict[str, Any],
                 node_id: str | None = None) -> dict[str, Any]:
        spec = get_layer(layer_type)
        where = f" of {self._label(node_id)}" if node_id else f" for {layer_type}"
        values = {}
        for key, value in params.items():
            if key not in spec.param_index:
                owner = self._label(node_id) if node_id else layer_type
                raise DesignError(unknown_key_problem(owner, "parameter", key, spec.param_index))
            try:
                values[key] = spec.param_index[key].coerce(value)
            except TypeError as err:
                raise DesignError(f"{err}{where}") from None
        return values

    def _storage_problem(self, src: str, dst: str, port: int) -> str | None:
        for node_id in (src, dst):
            if node_id not in self._network_of:
                return f"there is no node {node_id!r}"
        if self._network_of[src] != self._network_of[dst]:
            return (f"{self._label(src)} and {self._label(dst)} are in different networks; "
                    "connect layers of the same network")
        src_spec = get_layer(self._graphs[self._network_of[src]].nodes[src]["type"])
        dst_spec = get_layer(self._graphs[self._network_of[dst]].nodes[dst]["type"])
        if not src_spec.has_output:
            return f"{self._label(src)} is an Output and has nothing to pass on"
        if port_problem(port):
            return port_problem(port)
        if dst_spec.max_inputs is not None and port >= dst_spec.max_inputs:
            if dst_spec.max_inputs == 0:
                return f"{self._label(dst)} is an {dst_spec.name} and takes no inputs"
            return (f"{self._label(dst)} has {dst_spec.max_inputs} input"
                    f"{'s' if dst_spec.max_inputs > 1 else ''}; there is no input {port}")
        if self._graphs[self._network_of[dst]].has_edge(src, dst, key=port):
            return f"{self._label(src)} is already connected to input {port} of {self._label(dst)}"
        return None

    def _label(self, node_id: str | None) -> str:
        if node_id is None or node_id not in self._network_of:
            return repr(node_id)
        data = self._graphs[self._network_of[node_id]].nodes[node_id]
        return f"{data['name']!r} ({data['type']})"

    def _new_id(self) -> str:
        return f"n{self._last_number + 1}"

    def _note_id(self, node_id: str) -> None:
        """Keep generated ids clear of ids given explicitly (from files, undo, imports)."""
        match = _GENERATED_ID.match(node_id)
        if match:
            self._last_number = max(self._last_number, int(match.group(1)))

    def _default_name(self, network: str, layer_type: str) -> str:
        taken = {data["name"] for _, data in self._graphs[network].nodes(data=True)}
        base, k = layer_type.lower(), 1
        while f"{base}{k}" in taken:
            k += 1
        return f"{base}{k}"


def node_name_problem(name: object) -> str | None:
    """Why `name` cannot be a node's name (empty, not a text, too long), or None."""
    if not isinstance(name, str) or not name.strip():
        return f"a node's name must be a non-empty text, not {excerpt(name)}"
    return text_problem(name, "a node's name", LONGEST_NAME)


def _check_name(name: object) -> None:
    problem = node_name_problem(name)
    if problem:
        raise DesignError(problem)


def _checked_text(text: object, what: str, longest: int) -> str:
    problem = text_value_problem(text, what, longest)
    if problem:
        raise DesignError(problem)
    return text


def _position(pos: tuple[float, float] | None) -> tuple[float, float]:
    if pos is None:
        return (0.0, 0.0)
    problem = position_problem(pos)
    if problem:
        raise DesignError(problem)
    return (float(pos[0]), float(pos[1]))
