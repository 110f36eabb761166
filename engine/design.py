"""The design: named networks of layers plus training settings; the one truth every view reads.

Each network is a MultiDiGraph (engine.graph). Nodes carry `type`, `name`, `params`, `pos` and `seq`
(creation order, which fixes the order of a network's Inputs and Outputs); an edge runs from
output `out` of a node (most have one output, 0) to input `port` of another node and is keyed
by that port.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine import limits
from engine.blocks.definitions import (
    ARGUMENT_KINDS,
    BLOCK_PARAMS,
    Expr,
    ModuleClass,
    argument_from_json,
    argument_name_problem,
    argument_to_json,
    evaluated,
    expr_from_json,
    module_class_problem,
)
from engine.blocks.expressions import ExpressionError
from engine.errors import DesignError
from engine.events import (
    BlockAdded,
    BlockArgumentsChanged,
    BlockRemoved,
    DesignEvent,
    DesignEvents,
    EdgeAdded,
    EdgeRemoved,
    NameChanged,
    NetworkAdded,
    NetworkChange,
    NetworkRemoved,
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    NodeRenamed,
    ParamsChanged,
    Reset,
    TrainingChanged,
)
from engine.fields import Param, unknown_key_problem
from engine.graph import MultiDiGraph, has_path
from engine.layers import get_layer
from engine.layers.base import SINGLE_OUTPUT
from engine.layers.block_node import BLOCK_TYPE as BLOCK
from engine.quoting import excerpt

DEFAULT_NETWORK = "model"
_GENERATED_ID = re.compile(r"n(\d+)$")
# Revisions are unique across every design in the process, so a cache keyed by them can never
# mistake one design's definition for another's.
_REVISIONS = itertools.count(1)


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
    """A connection from output `out` of `src` (0: its first, for most layers its only one)
    to input `port` of `dst`."""

    src: str
    dst: str
    port: int
    out: int = 0


class _CheckedText:
    """A text attribute that refuses (DesignError) what is not a text or is longer than
    `longest`, so no file or edit can give the design a name it could not save."""

    def __init__(self, what: str, longest: int) -> None:
        self.what, self.longest = what, longest

    def __set_name__(self, owner: type, name: str) -> None:
        self.attribute = f"_{name}"

    def __get__(self, design: Design | None, owner: type | None = None) -> Any:
        return self if design is None else getattr(design, self.attribute)

    def __set__(self, design: Design, text: str) -> None:
        setattr(design, self.attribute, _checked_text(text, self.what, self.longest))


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
        # Networks and block definitions alike are graphs, each a scope that nodes live in;
        # `_blocks` holds the definitions' arguments.
        self._graphs: dict[str, MultiDiGraph] = {}
        self._blocks: dict[str, tuple[Param, ...]] = {}
        # The class an import's modules had, where it differs from the definition's name
        # (two structural variants of one class, a name Python marks private, an nn.Sequential
        # subclass): built modules keep the original's class name.
        self._module_classes: dict[str, ModuleClass] = {}
        self._revisions: dict[str, int] = {}
        self._network_of: dict[str, str] = {}
        self._seq = 0
        self._last_number = 0
        self.training: dict[str, Any] = {}
        self.events = DesignEvents()
        for network in networks:
            self.add_network(network)

    # ------------------------------------------------------------------ queries
    name = _CheckedText("the design's name", limits.LONGEST_NAME)
    description = _CheckedText("the description", limits.LONGEST_TEXT)

    @property
    def networks(self) -> list[str]:
        return [name for name in self._graphs if name not in self._blocks]

    @property
    def blocks(self) -> list[str]:
        """The block definitions, in the order they were made."""
        return list(self._blocks)

    def is_block(self, scope: str) -> bool:
        return scope in self._blocks

    def block_arguments(self, block: str) -> tuple[Param, ...]:
        if block not in self._blocks:
            raise DesignError(f"there is no block named {block!r}; the design has "
                              f"{', '.join(self._blocks) or 'none'}")
        return self._blocks[block]

    def module_class(self, block: str) -> ModuleClass | None:
        """The class name (and whether it is an nn.Sequential) the block's built modules take,
        when an import set one; None: a class named after the definition."""
        self.block_arguments(block)
        return self._module_classes.get(block)

    def set_module_class(self, block: str, module_class: ModuleClass | None) -> None:
        self.block_arguments(block)
        if module_class is None:
            self._module_classes.pop(block, None)
        else:
            problem = module_class_problem(module_class.name)
            if problem:
                raise DesignError(f"block {block!r}: {problem}")
            self._module_classes[block] = module_class
        self._revisions[block] = next(_REVISIONS)
        self._announce(BlockArgumentsChanged(block))

    def uses_of(self, block: str) -> list[str]:
        """Every block node, in any scope, that uses `block`."""
        return [node for node, scope in self._network_of.items()
                if self._graphs[scope].nodes[node]["type"] == BLOCK
                and self._graphs[scope].nodes[node]["params"]["block"] == block]

    def revision(self, scope: str) -> int:
        """A number that changes whenever anything in the scope's graph or arguments changes,
        and that no other scope of any design has (so a check can keep what it found for a
        definition until the definition is edited)."""
        self._graph(scope)
        return self._revisions[scope]

    def default_network(self) -> str | None:
        """The network meant when none is named: DEFAULT_NETWORK, else the only one; None
        when several networks leave the choice open (each caller says how to make it)."""
        if DEFAULT_NETWORK in self._graphs:
            return DEFAULT_NETWORK
        networks = self.networks  # block definitions are scopes too, never trained alone
        return networks[0] if len(networks) == 1 else None

    def graph(self, network: str = DEFAULT_NETWORK) -> MultiDiGraph:
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

    def fields_of(self, node_id: str) -> dict[str, Param]:
        """The fields a node has: its layer's parameters and, for a block node, the arguments
        of the block it uses (editors are built from these)."""
        data = self._graphs[self.network_of(node_id)].nodes[node_id]
        return self._fields_of(data["type"], data["params"], node_id)

    def network_of(self, node_id: str) -> str:
        try:
            return self._network_of[node_id]
        except KeyError:
            raise DesignError(f"there is no node {node_id!r}") from None

    def has_node(self, node_id: str) -> bool:
        return node_id in self._network_of

    def edges(self, network: str = DEFAULT_NETWORK) -> list[Edge]:
        return [Edge(src, dst, port, out) for src, dst, port, out
                in self._graph(network).edges(keys=True, data="out")]

    def inputs_of(self, node_id: str) -> list[Edge]:
        """Edges into a node, by port."""
        graph = self._graph(self.network_of(node_id))
        edges = [Edge(src, node_id, port, out)
                 for src, _, port, out in graph.in_edges(node_id, keys=True, data="out")]
        return sorted(edges, key=lambda e: (e.port, e.src))

    def outputs_of(self, node_id: str) -> list[Edge]:
        """Edges out of a node, from any of its outputs."""
        graph = self._graph(self.network_of(node_id))
        return [Edge(node_id, dst, port, out)
                for _, dst, port, out in graph.out_edges(node_id, keys=True, data="out")]

    def output_names(self, node_id: str) -> tuple[str, ...]:
        """The names of a node's outputs, in order, as its layer declares them from its
        parameters (one unnamed output for most layers). Inside a block definition a count
        that an expression gives is read with the arguments' defaults; each use is checked
        with its own values."""
        data = self._graphs[self.network_of(node_id)].nodes[node_id]
        spec = get_layer(data["type"])
        params = data["params"]
        if any(isinstance(value, Expr) for value in params.values()):
            defaults = {a.name: a.default for a in self._blocks[self._network_of[node_id]]}
            try:
                params = evaluated(params, defaults)
            except ExpressionError:
                return SINGLE_OUTPUT
        return spec.outputs(params)

    def find(self, name: str, network: str | None = None) -> str:
        """The id of the node with this display name (for scripts)."""
        for net in [network] if network else self.networks:
            for node_id in self.nodes(net):
                if self._graphs[net].nodes[node_id]["name"] == name:
                    return node_id
        raise DesignError(f"there is no node named {name!r}")

    def connection_problem(self, src: str, dst: str, port: int = 0,
                           out: int = 0) -> str | None:
        """Why connecting output `out` of src to dst's port would be refused or be wrong, or
        None if fine.

        The GUI asks this before it connects; `connect` refuses the first kinds itself.
        """
        problem = self._storage_problem(src, dst, port, out) or self.missing_output(src, out)
        if problem:
            return problem
        graph = self._graph(self.network_of(dst))
        if any(p == port for _, _, p in graph.in_edges(dst, keys=True)):
            return f"input {port} of {self._label(dst)} is already connected"
        if src == dst or has_path(graph, dst, src):
            return f"connecting {self._label(src)} to {self._label(dst)} would make a cycle"
        return None

    # ------------------------------------------------------------------ editing
    def add(self, layer_type: str, *inputs: str | tuple[str, int], name: str | None = None,
            network: str = DEFAULT_NETWORK, pos: tuple[float, float] | None = None,
            node_id: str | None = None, **params: Any) -> str:
        """Add a layer, connect `inputs` to its ports 0, 1, ... in order, return its id.

        An input is a node id (its first output) or a (node id, output) pair:
        `design.add("Add", (chunk, 0), (chunk, 1))`."""
        graph = self._graph(network)
        if name is not None:
            _check_name(name)
        values = {name: field.default
                  for name, field in self._fields_of(layer_type, params, None).items()}
        values.update(self._coerced(layer_type, params, scope=network))
        if layer_type == BLOCK:
            self._refuse_recursion(network, values["block"])
        if node_id is None:
            node_id = self._new_id()
        elif node_id in self._network_of:
            raise DesignError(f"a node with id {node_id!r} already exists")
        elif not isinstance(node_id, str) or not node_id:
            raise DesignError(f"a node id must be a non-empty text, not {excerpt(node_id)}")
        else:
            _checked_text(node_id, "a node's id", limits.LONGEST_NAME)
        self._refuse_more_nodes(network, layer_type)
        self._note_id(node_id)
        self._seq += 1
        graph.add_node(node_id, type=layer_type, name=name or self._default_name(network, layer_type),
                       params=values, pos=_position(pos), seq=self._seq)
        self._network_of[node_id] = network
        self._announce(NodeAdded(network, node_id))
        for port, source in enumerate(inputs):
            src, out = output_ref(source)
            self.connect(src, node_id, port, out)
        return node_id

    def restore(self, node: Node, edges: Iterable[Edge] = (), seq: int | None = None) -> None:
        """Put back a removed node and its edges exactly as they were (for undo)."""
        self.add(node.type, name=node.name, network=node.network, pos=node.pos, node_id=node.id,
                 **node.params)
        if seq is not None:
            self._graphs[node.network].nodes[node.id]["seq"] = seq
        for edge in edges:
            self.connect(edge.src, edge.dst, edge.port, edge.out)

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
        self._announce(NodeRemoved(network, node_id))

    def missing_output(self, src: str, out: int) -> str | None:
        """Why `src` has no output `out` (its parameters give it fewer), or None."""
        names = self.output_names(src)
        if out < len(names):
            return None
        listed = ", ".join(f"{index} {name}".strip() for index, name in enumerate(names))
        return (f"{self._label(src)} has {len(names)} output{'s' * (len(names) != 1)} "
                f"({listed}); there is no output {out}")

    def connect(self, src: str, dst: str, port: int = 0, out: int = 0) -> None:
        """Connect output `out` of src to dst's input `port`.

        Refuses only what cannot be stored; a second edge into a port, a cycle or an output
        the source's parameters no longer give is stored and reported by `check`, so the
        canvas can be edited one step at a time.
        """
        problem = self._storage_problem(src, dst, port, out)
        if problem:
            raise DesignError(problem)
        network = self._network_of[dst]
        self._graphs[network].add_edge(src, dst, key=port, out=out)
        self._announce(EdgeAdded(network, src, dst, port, out))

    def disconnect(self, src: str, dst: str, port: int = 0) -> None:
        network = self.network_of(dst)
        graph = self._graphs[network]
        if not graph.has_edge(src, dst, key=port):
            raise DesignError(f"there is no connection from {self._label(src)} to input {port} "
                              f"of {self._label(dst)}")
        out = graph.succ[src][dst][port]["out"]
        graph.remove_edge(src, dst, key=port)
        self._announce(EdgeRemoved(network, src, dst, port, out))

    def set_params(self, node_id: str, **params: Any) -> None:
        network = self.network_of(node_id)
        data = self._graphs[network].nodes[node_id]
        if data["type"] == BLOCK and params.get("block", data["params"]["block"]) != (
                data["params"]["block"]):
            raise DesignError(f"{self._label(node_id)} uses block {data['params']['block']!r}; "
                              "to use another block, add a new block node")
        values = self._coerced(data["type"], params, node_id, network)
        old = {key: data["params"][key] for key in values}
        data["params"].update(values)
        self._announce(ParamsChanged(network, node_id, old, dict(values)))

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
        self._announce(NodeRenamed(network, node_id, old, name))

    def move(self, node_id: str, pos: tuple[float, float]) -> None:
        network = self.network_of(node_id)
        self._graphs[network].nodes[node_id]["pos"] = _position(pos)
        self._announce(NodeMoved(network, node_id))

    def add_network(self, name: str) -> None:
        self._new_scope(name, "a network's name", "networks", len(self.networks) + 1,
                        limits.MOST_NETWORKS)
        self._announce(NetworkAdded(name))

    def remove_network(self, name: str) -> None:
        if name in self._blocks:
            raise DesignError(f"{name!r} is a block definition, not a network")
        for node_id in self.nodes(name):
            self.remove(node_id)
        del self._graphs[name]
        self._announce(NetworkRemoved(name))

    def add_block(self, name: str, arguments: Iterable[Param] = ()) -> None:
        """Make an empty block definition; add its Inputs, layers and Outputs with `add(...,
        network=name)`. `arguments` are made with engine.blocks.definitions.argument."""
        declared = self._checked_arguments(name, arguments)
        self._new_scope(name, "a block's name", "block definitions", len(self._blocks) + 1,
                        limits.MOST_BLOCKS)
        self._blocks[name] = declared
        self._announce(BlockAdded(name))

    def remove_block(self, name: str) -> None:
        """Remove a definition no node uses (DesignError names the uses otherwise)."""
        self.block_arguments(name)
        uses = [self._label(node) for node in self.uses_of(name)]
        if uses:
            raise DesignError(f"block {name!r} is used by {', '.join(uses)}; remove or ungroup "
                              "those first")
        for node_id in self.nodes(name):
            self.remove(node_id)
        del self._graphs[name], self._blocks[name]
        self._module_classes.pop(name, None)
        self._announce(BlockRemoved(name))

    def set_block_arguments(self, name: str, arguments: Iterable[Param]) -> None:
        """Give a definition new arguments; each use keeps the values of arguments that stay
        (when they still fit) and takes the default of new ones."""
        self.block_arguments(name)
        declared = self._checked_arguments(name, arguments)
        self._blocks[name] = declared
        self._revisions[name] = next(_REVISIONS)
        self._announce(BlockArgumentsChanged(name))
        for node_id in self.uses_of(name):
            data = self._graphs[self._network_of[node_id]].nodes[node_id]
            old = dict(data["params"])
            values = {key: old[key] for key in BLOCK_PARAMS}
            for argument in declared:
                kept = old.get(argument.name, argument.default)
                values[argument.name] = (kept if isinstance(kept, Expr)
                                         or argument.problem(kept) is None else argument.default)
            data["params"] = values
            self._announce(ParamsChanged(self._network_of[node_id], node_id, old, dict(values)))

    def set_training(self, **values: Any) -> None:
        """Update training settings (validated by the training engine when a run starts)."""
        self.training.update(copy.deepcopy(values))
        self._announce(TrainingChanged(dict(values)))

    def unset_training(self, *keys: str) -> None:
        """Remove training settings, so their defaults apply again (undoing a first edit)."""
        for key in keys:
            self.training.pop(key, None)
        self._announce(TrainingChanged(removed=keys))

    def set_name(self, name: str) -> None:
        self.name = name
        self._announce(NameChanged())

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description; equal designs give equal dicts. A design without blocks
        has no "blocks" member, so flat designs read and write as they always have."""
        document = {"name": self.name, "description": self.description}
        if self.card:
            document["card"] = dict(self.card)
        if self._blocks:
            document["blocks"] = {
                block: {"arguments": [argument_to_json(a) for a in arguments],
                        **({"class": self._module_classes[block].to_json()}
                           if block in self._module_classes else {}),
                        **self._scope_dict(block)}
                for block, arguments in self._blocks.items()}
        document.update(networks={network: self._scope_dict(network)
                                  for network in self.networks},
                        training=copy.deepcopy(self.training))
        return document

    def _scope_dict(self, scope: str) -> dict[str, Any]:
        return {"nodes": [self._node_dict(scope, n) for n in self.nodes(scope)],
                "edges": [{"src": e.src, "dst": e.dst, "port": e.port,
                           **({"out": e.out} if e.out else {})}
                          for e in sorted(self.edges(scope),
                                          key=lambda e: (self.seq_of(e.dst), e.port, e.src))]}

    def _node_dict(self, scope: str, node_id: str) -> dict[str, Any]:
        data = self._graphs[scope].nodes[node_id]
        fields = self._fields_of(data["type"], data["params"], node_id)
        params = {key: value.to_json() if isinstance(value, Expr) else fields[key].to_json(value)
                  for key, value in data["params"].items()}
        return {"id": node_id, "type": data["type"], "name": data["name"], "params": params,
                "pos": list(data["pos"])}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Design:
        """Build a design from `to_dict` output (validated beforehand by engine.fileformat)."""
        design = cls(data.get("name", "untitled"), networks=())
        design.description = data.get("description", "")
        design.card = dict(data.get("card", {}))
        blocks = data.get("blocks", {})
        for block, content in blocks.items():  # every definition first: uses may come earlier
            design.add_block(block, [argument_from_json(a) for a in content.get("arguments", [])])
            if "class" in content:
                design.set_module_class(block, ModuleClass.from_json(content["class"]))
        for block, content in blocks.items():
            design._fill(block, content)
        for network, content in data["networks"].items():
            design.add_network(network)
            design._fill(network, content)
        design.training = copy.deepcopy(data.get("training", {}))
        return design

    def _fill(self, scope: str, content: dict[str, Any]) -> None:
        for node in content["nodes"]:
            self.add(node["type"], name=node["name"], network=scope, pos=tuple(node["pos"]),
                     node_id=node["id"], **node.get("params", {}))
        for edge in content["edges"]:
            self.connect(edge["src"], edge["dst"], edge.get("port", 0), edge.get("out", 0))

    def copy(self) -> Design:
        """An independent copy (without listeners), e.g. the snapshot a training run keeps."""
        return Design.from_dict(self.to_dict())

    def replace_with(self, other: Design) -> None:
        """Take over another design's content in place, keeping listeners (after load)."""
        self.name, self.description = other.name, other.description
        self.card = other.card
        self._graphs, self._network_of = other._graphs, other._network_of
        self._blocks, self._revisions = other._blocks, other._revisions
        self._module_classes = other._module_classes
        self._seq, self.training = other._seq, other.training
        self._last_number = other._last_number
        self._announce(Reset())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Design) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        sizes = ", ".join(f"{n}: {len(self._graphs[n])} nodes" for n in self.networks)
        return f"<Design {self.name!r} ({sizes})>"

    # ------------------------------------------------------------------ helpers
    def _announce(self, event: DesignEvent) -> None:
        if isinstance(event, NetworkChange):
            self._revisions[event.network] = next(_REVISIONS)
        self.events.emit(event)

    def _new_scope(self, name: str, what: str, things: str, count: int, most: int) -> None:
        """Make the graph of a network or definition named `name`, which would be the
        `count`th of the design's `things` (refused beyond `most`)."""
        if not isinstance(name, str) or not name:
            raise DesignError(f"{what} must be a non-empty text")
        _checked_text(name, what, limits.LONGEST_NAME)
        if name in self._graphs:
            kind = "block" if name in self._blocks else "network"
            raise DesignError(f"there is already a {kind} named {name!r}")
        problem = limits.count_problem(count, most, things, "the design")
        if problem:
            raise DesignError(f"cannot add {name!r}: {problem}")
        self._graphs[name] = MultiDiGraph()
        self._revisions[name] = next(_REVISIONS)

    def _refuse_more_nodes(self, scope: str, layer_type: str) -> None:
        """Refuse a node beyond what one scope, or the whole design, may hold."""
        kind = "block" if scope in self._blocks else "network"
        problem = limits.count_problem(
            len(self._graphs[scope]) + 1, limits.MOST_NODES, "nodes", f"{kind} {scope!r}"
        ) or limits.count_problem(
            len(self._network_of) + 1, limits.MOST_NODES_IN_DESIGN, "nodes", "the design")
        if problem:
            raise DesignError(f"cannot add a {layer_type}: {problem}; group repeated layers "
                              "into a block, which is defined once and used many times")

    @staticmethod
    def _checked_arguments(block: str, arguments: Iterable[Param]) -> tuple[Param, ...]:
        declared = tuple(arguments)
        for argument in declared:
            problem = argument_name_problem(argument.name)
            if argument.kind not in ARGUMENT_KINDS:
                problem = (f"argument {argument.name!r} must be a whole number, a number, "
                           "true/false or a choice")
            if problem:
                raise DesignError(f"block {block!r}: {problem}")
        names = [argument.name for argument in declared]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise DesignError(f"block {block!r} declares {', '.join(map(repr, twice))} twice; "
                              "each argument needs its own name")
        return declared

    def _graph(self, network: str) -> MultiDiGraph:
        try:
            return self._graphs[network]
        except KeyError:
            raise DesignError(f"there is no network named {network!r}; the design has "
                              f"{', '.join(self._graphs) or 'none'}") from None

    def _coerced(self, layer_type: str, params: dict[str, Any], node_id: str | None = None,
                 scope: str = DEFAULT_NETWORK) -> dict[str, Any]:
        """`params` in their stored form. Inside a block definition a value may be an
        expression of the block's arguments (`{"expr": "planes * 4"}`), kept as an Expr."""
        fields = self._fields_of(layer_type, params, node_id)
        where = f" of {self._label(node_id)}" if node_id else f" for {layer_type}"
        values = {}
        for key, value in params.items():
            if key not in fields:
                owner = self._label(node_id) if node_id else layer_type
                raise DesignError(unknown_key_problem(owner, "parameter", key, fields))
            try:
                expression = expr_from_json(value) if scope in self._blocks else None
                values[key] = (expression if expression is not None and key != "block"
                               else fields[key].coerce(value))
            except (TypeError, DesignError) as err:
                raise DesignError(f"{err}{where}") from None
        return values

    def _fields_of(self, layer_type: str, params: dict[str, Any],
                   node_id: str | None) -> dict[str, Param]:
        """The fields a node of `layer_type` has: its layer's parameters, and for a block node
        the arguments of the block it uses too."""
        fields = dict(get_layer(layer_type).param_index)
        if layer_type != BLOCK:
            return fields
        block = params.get("block")
        if block is None and node_id is not None:
            block = self._graphs[self._network_of[node_id]].nodes[node_id]["params"]["block"]
        if block not in self._blocks:
            raise DesignError(f"a block node names the block it uses; {excerpt(block)} is not "
                              f"one of this design's blocks ({', '.join(self._blocks) or 'none'})")
        fields.update((argument.name, argument) for argument in self._blocks[block])
        return fields

    def _refuse_recursion(self, scope: str, block: str) -> None:
        """A block node in definition `scope` may not lead back to `scope` (a block that uses
        itself, directly or through others, would never end)."""
        if scope not in self._blocks:
            return
        chain = self._block_chain(block, scope, [block])
        if chain:
            raise DesignError(f"block {scope!r} cannot use {block!r}: "
                              f"{' > '.join([scope, *chain])} would use itself forever")

    def _block_chain(self, block: str, target: str, path: list[str]) -> list[str] | None:
        if block == target:
            return path
        for node in self.nodes(block):
            data = self._graphs[block].nodes[node]
            if data["type"] == BLOCK:
                inner = data["params"]["block"]
                found = self._block_chain(inner, target, [*path, inner])
                if found:
                    return found
        return None

    def _storage_problem(self, src: str, dst: str, port: int, out: int = 0) -> str | None:
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
        if limits.port_problem(port):
            return limits.port_problem(port)
        if limits.out_index_problem(out):
            return limits.out_index_problem(out)
        if dst_spec.max_inputs is not None and port >= dst_spec.max_inputs:
            if dst_spec.max_inputs == 0:
                return f"{self._label(dst)} takes no inputs"
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


def output_ref(source: str | tuple[str, int]) -> tuple[str, int]:
    """A node id (its first output) or a (node id, output) pair, as the pair."""
    return (source, 0) if isinstance(source, str) else source


def node_name_problem(name: object) -> str | None:
    """Why `name` cannot be a node's name (empty, not a text, too long), or None."""
    if not isinstance(name, str) or not name.strip():
        return f"a node's name must be a non-empty text, not {excerpt(name)}"
    return limits.text_problem(name, "a node's name", limits.LONGEST_NAME)


def _check_name(name: object) -> None:
    problem = node_name_problem(name)
    if problem:
        raise DesignError(problem)


def _checked_text(text: object, what: str, longest: int) -> str:
    problem = limits.text_value_problem(text, what, longest)
    if problem:
        raise DesignError(problem)
    return text


def _position(pos: tuple[float, float] | None) -> tuple[float, float]:
    if pos is None:
        return (0.0, 0.0)
    problem = limits.position_problem(pos)
    if problem:
        raise DesignError(problem)
    return (float(pos[0]), float(pos[1]))
