"""Compiling a design network into a real torch.nn.Module with straight-line forward code.

A block use builds as an instance of a class named after its definition, whose forward is the
definition's generated code (one class per definition and forward source); a repeat is an
nn.Sequential of its copies ("0", "1", ...), and a definition drawn as a plain chain of modules
"0".."n-1" is itself an nn.Sequential (engine.codegen.forward). So module paths read
`layer1.0.conv1`, as they do in torchvision and in the exported file. A definition an import
made keeps the original's class name (Design.module_class), nn.Sequential subclasses too.
"""

from __future__ import annotations

import hashlib
import linecache
from collections import OrderedDict
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from engine.blocks.definitions import evaluated
from engine.checking import Report, Walk, check
from engine.codegen.forward import ForwardProgram, Tensors, forward_program
from engine.codegen.modules import ModuleTree
from engine.codegen.naming import class_name
from engine.design import DEFAULT_NETWORK, Design
from engine.errors import DesignError
from engine.layers import TensorInfo, get_layer
from engine.layers.block_node import BLOCK_TYPE
from engine.recent_cache import RecentCache


def build_model(design: Design, network: str = DEFAULT_NETWORK,
                reuse: dict[str, Any] | None = None, report: Report | None = None):
    """Return a torch.nn.Module for one network of the design.

    `reuse` maps node ids to modules from an earlier build; a node whose layer, parameters and
    incoming shapes are unchanged keeps its module (and so its trained weights). Inside a block
    use the same holds for each layer, found at its path in the use's earlier module.
    Raises DesignError listing every error `check` finds in the network.
    """
    report = report or check(design)
    design.graph(network)  # raises DesignError for an unknown network
    errors = report.errors_in(network)
    if errors:
        listing = [str(problem) for problem in errors]
        raise DesignError(f"network {network!r} cannot be built: " + "; ".join(listing), listing)
    program = forward_program(design, network, report)
    scope = _Scope(design, report, report.uses, {})
    modules = {path: scope.module(node, (reuse or {}).get(node))
               for path, node in program.modules.items()}
    network_class = _compiled_classes()[1]
    cls = type(class_name(network), (network_class,), {"forward": _compile_forward(program)})
    return cls(_containers(program.tree, modules), program)


class _Scope:
    """Builds the modules of one network, or of one copy of a block use (whose layers take the
    use's argument values and the tensors that reach that copy)."""

    def __init__(self, design: Design, tensors: Tensors, uses: Mapping[str, tuple[Walk, ...]],
                 arguments: Mapping[str, Any]) -> None:
        self.design = design
        self.tensors = tensors
        self.uses = uses
        self.arguments = arguments

    def module(self, node: str, previous: Any) -> Any:
        data = self.design.node(node)
        params = evaluated(data.params, self.arguments)
        if data.type == BLOCK_TYPE:
            return self._block_use(params, self.uses[node], previous)
        return _layer(data.type, params, list(self.tensors.input_infos[node]), previous)

    def _block_use(self, params: dict[str, Any], copies: tuple[Walk, ...], previous: Any) -> Any:
        """One instance, or for repeat N an nn.Sequential of N (each with its own weights)."""
        from torch import nn

        block = params["block"]
        arguments = {a.name: params[a.name] for a in self.design.block_arguments(block)}
        if params["repeat"] == 1:
            return _Scope(self.design, copies[0], copies[0].uses, arguments).instance(
                block, previous)
        return nn.Sequential(*(
            _Scope(self.design, walk, walk.uses, arguments).instance(
                block, _submodule(previous, str(index)))
            for index, walk in enumerate(copies)))

    def instance(self, block: str, previous: Any) -> Any:
        from torch import nn

        program = forward_program(self.design, block, self.tensors, self.arguments)
        modules = {path: self.module(node, _submodule(previous, path))
                   for path, node in program.modules.items()}
        style = self.design.module_class(block)
        if style is not None and style.sequential and program.chain:
            cls = nn.Sequential if style.name == "Sequential" else _sequential_class(style.name)
            return cls(OrderedDict(modules))
        if program.sequence:
            return nn.Sequential(*modules.values())
        name = style.name if style is not None else class_name(block)
        return _block_class(program, name)(_containers(program.tree, modules))


def _layer(layer_type: str, params: dict[str, Any], inputs: list[TensorInfo | None],
           previous: Any) -> Any:
    signature = (layer_type, tuple(sorted(params.items())), tuple(inputs))
    if previous is not None and getattr(previous, "_neuralcanvas_signature", None) == signature:
        return previous
    module = get_layer(layer_type).build(inputs, params)
    module._neuralcanvas_signature = signature
    return module


def _submodule(module: Any, path: str) -> Any:
    """The module at `path` inside an earlier build, or None where it has none."""
    if module is None:
        return None
    try:
        return module.get_submodule(path)
    except AttributeError:
        return None


def _containers(tree: ModuleTree, modules: dict[str, Any]) -> dict[str, Any]:
    """The children of one level, with nested paths inside ModuleList/ModuleDict containers
    exactly as the exported code builds them (see engine.codegen.modules)."""
    from torch import nn

    children: dict[str, Any] = {}
    for key, child in tree.items():
        if isinstance(child, ModuleTree):
            nested = _containers(child, modules)
            if child.is_list:
                children[key] = nn.ModuleList(nested.values())
            else:
                children[key] = nn.ModuleDict()
                for name, value in nested.items():
                    _attach(children[key], name, value)
        else:
            children[key] = modules[child]
    return children


def _attach(owner: Any, key: str, value: Any) -> None:
    """Register a node's module, or the tensor of a Parameter or Buffer node, under `key`: the
    tensor itself is the attribute (state_dict key `cls_token`, as `self.cls_token =
    nn.Parameter(...)` in the exported class makes it)."""
    from torch import nn

    if isinstance(value, nn.Module):
        owner.add_module(key, value)
    else:
        setattr(owner, key, value)


_BLOCK_CLASSES: RecentCache[type] = RecentCache(256)


@lru_cache(maxsize=256)
def _sequential_class(name: str) -> type:
    """An nn.Sequential subclass called `name` (torchvision's Conv2dNormActivation is one)."""
    from torch import nn

    return type(name, (nn.Sequential,), {})


def _block_class(program: ForwardProgram, name: str) -> type:
    """The class `name` of a definition's uses whose forward code is `program`'s: one per
    definition and source, so every use with the same code is an instance of the same class."""
    key = (program.scope, name, program.source(depth=0))
    return _BLOCK_CLASSES.get(key, lambda: type(name, (_compiled_classes()[0],),
                                                 {"forward": _compile_forward(program)}))


def _compile_forward(program: ForwardProgram):
    """Turn the forward source into a function; the source is kept for tracebacks."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    source = program.source(depth=0)
    digest = hashlib.sha256(source.encode()).hexdigest()[:8]
    filename = f"<neuralcanvas {program.scope!r} {digest}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    namespace: dict[str, Any] = {"torch": torch, "nn": nn, "F": F}
    exec(code, namespace)  # our own generated code: identifiers sanitised, literals via repr
    return namespace["forward"]


@lru_cache(maxsize=1)
def _compiled_classes() -> tuple[type, type]:
    """The bases of compiled blocks and networks (defined on first use: torch is imported
    lazily)."""
    from torch import nn

    class CompiledBlock(nn.Module):
        """A block use built from its definition: submodules named after its nodes."""

        def __init__(self, children: dict[str, nn.Module]) -> None:
            super().__init__()
            for key, module in children.items():
                _attach(self, key, module)

    class CompiledNetwork(CompiledBlock):
        """A network built from a design: submodules named after nodes, generated forward.

        `node_of_module` maps each top-level module path (as in named_modules) to its node
        (a block use's layers lie under its path).
        """

        def __init__(self, children: dict[str, nn.Module], program: ForwardProgram) -> None:
            super().__init__(children)
            self.node_of_module = dict(program.modules)
            self.forward_source = program.source()

    return CompiledBlock, CompiledNetwork
