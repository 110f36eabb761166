"""Compiling a design network into a real torch.nn.Module with straight-line forward code."""

from __future__ import annotations

import linecache
from functools import lru_cache
from typing import Any

from engine.checking import Report, check
from engine.codegen.forward import ForwardProgram, forward_program
from engine.codegen.modules import ModuleTree
from engine.codegen.naming import class_name
from engine.design import DEFAULT_NETWORK, Design
from engine.errors import DesignError
from engine.layers import get_layer


def build_model(design: Design, network: str = DEFAULT_NETWORK,
                reuse: dict[str, Any] | None = None, report: Report | None = None):
    """Return a torch.nn.Module for one network of the design.

    `reuse` maps node ids to modules from an earlier build; a node whose layer, parameters and
    incoming shapes are unchanged keeps its module (and so its trained weights).
    Raises DesignError listing every error `check` finds in the network.
    """
    import torch
    from torch import nn

    report = report or check(design)
    design.graph(network)  # raises DesignError for an unknown network
    errors = report.errors_in(network)
    if errors:
        listing = [str(problem) for problem in errors]
        raise DesignError(f"network {network!r} cannot be built: " + "; ".join(listing), listing)
    program = forward_program(design, network, report)
    modules = {path: _module_for(design, node, report, reuse)
               for path, node in program.modules.items()}
    forward = _compile_forward(program, {"torch": torch, "nn": nn})
    cls = type(class_name(network), (_compiled_network_base(),), {"forward": forward})
    return cls(_containers(program.tree, modules), program)


def _containers(tree: ModuleTree, modules: dict[str, Any]) -> dict[str, Any]:
    """The children of one level, with nested paths inside ModuleList/ModuleDict containers
    exactly as the exported code builds them (see engine.codegen.modules)."""
    from torch import nn

    children: dict[str, Any] = {}
    for key, child in tree.items():
        if isinstance(child, ModuleTree):
            nested = _containers(child, modules)
            children[key] = (nn.ModuleList(nested.values()) if child.is_list
                             else nn.ModuleDict(nested))
        else:
            children[key] = modules[child]
    return children


def _module_for(design: Design, node: str, report: Report, reuse: dict[str, Any] | None):
    data = design.graph(design.network_of(node)).nodes[node]
    signature = (data["type"], tuple(sorted(data["params"].items())),
                 tuple(report.input_infos[node]))
    previous = (reuse or {}).get(node)
    if previous is not None and getattr(previous, "_neuralcanvas_signature", None) == signature:
        return previous
    module = get_layer(data["type"]).build(report.input_infos[node], dict(data["params"]))
    module._neuralcanvas_signature = signature
    return module


def _compile_forward(program: ForwardProgram, namespace: dict[str, Any]):
    """Turn the forward source into a function; the source is kept for tracebacks."""
    source = program.source(depth=0)
    filename = f"<neuralcanvas network {program.network!r}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    code = compile(source, filename, "exec")
    exec(code, namespace)  # our own generated code: identifiers sanitised, literals via repr
    return namespace["forward"]


@lru_cache(maxsize=1)
def _compiled_network_base():
    """The base class of compiled networks (defined on first use: torch is imported lazily)."""
    from torch import nn

    class CompiledNetwork(nn.Module):
        """A network built from a design: submodules named after nodes, generated forward.

        `node_of_module` maps each layer's module path (as in named_modules) to its node.
        """

        def __init__(self, children: dict[str, nn.Module], program: ForwardProgram) -> None:
            super().__init__()
            for key, module in children.items():
                self.add_module(key, module)
            self.node_of_module = dict(program.modules)
            self.forward_source = program.source()

    return CompiledNetwork
