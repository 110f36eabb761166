"""`import_module`: an existing nn.Module as a design, checked to compute the same outputs.

The module is traced with torch.fx in evaluation mode; a function called over a module's own
weights becomes that module's layer (engine.importing.own_weights); every operation becomes a
layer node (engine.importing.translate) or a line in one DesignError. Each call of a submodule that is
not a layer becomes a block use (engine.importing.hierarchy), and calls that agree share a
definition (engine.importing.sharing). Before the design is returned it is
built with `engine.build_model`, given the module's weights (strict=True) and run on the
example: its outputs must equal the module's exactly, so a design that imports is faithful.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.checking import check
from engine.compiler import build_model
from engine.design import DEFAULT_NETWORK, Design
from engine.errors import DesignError
from engine.importing.fixed_buffers import take_fixed_buffers
from engine.importing.layers import holds_computation
from engine.importing.own_weights import fold_own_weights
from engine.importing.refusal import Refusal, refusal_message
from engine.importing.sharing import Sharing
from engine.importing.stacks import unrolled_stacks
from engine.importing.tracing import propagate, trace
from engine.importing.training_calls import splice_training_calls
from engine.importing.translate import GraphTranslator
from engine.layout import apply_layout


@dataclass
class ImportResult:
    """The design; the module paths forward never calls (left out of the design); and the
    module's weights under the design's state_dict keys (those of left-out modules removed)."""

    design: Design
    left_out: list[str]
    state_dict: dict[str, Any]


def import_module(module: Any, example_input: Any) -> Design:
    """A design that computes what `module` computes (see `import_network`)."""
    return import_network(module, example_input).design


def import_network(module: Any, example_input: Any, name: str | None = None,
                   network: str = DEFAULT_NETWORK) -> ImportResult:
    """Trace `module` on `example_input` (a tensor, or a tuple for several inputs, batch first)
    and return the equivalent design. Raises DesignError listing every operation that has no
    layer, with the line of source that performs it."""
    inputs = _example_inputs(example_input)
    batch = inputs[0].shape[0]
    was_training = module.training
    module.eval()
    try:
        with unrolled_stacks(module):
            graph = trace(module, inputs)
        training_only = splice_training_calls(module, graph, inputs)
        first = propagate(module, graph, inputs)
        second = propagate(module, graph, tuple(_one_more(x) for x in inputs))
        folded = fold_own_weights(module, graph, first, second)
        scratch = Design(name or type(module).__name__, networks=(network,))
        kept = [node for nodes in training_only.values() for node in nodes]
        translator = GraphTranslator(module, graph, first, second, batch, scratch, network,
                                     kept, folded)
        translator.run()
        refusals = translator.refusals
        if not refusals:
            sharing = Sharing(scratch, network, translator.hierarchy, translator.origin)
            design = sharing.design(scratch.name)
            refusals = _check_problems(design, network, sharing.origin, translator)
        if refusals:
            raise DesignError(*refusal_message(type(module).__name__, refusals))
        left_out = _left_out(module, translator.used_modules())
        design.description = _description(module, inputs, left_out, list(training_only))
        for scope in [*design.blocks, network]:
            apply_layout(design, scope)
        weights = _verify(design, network, module, inputs, left_out)
    finally:
        module.train(was_training)
    return ImportResult(design, left_out, weights)


def _example_inputs(example_input: Any) -> tuple[Any, ...]:
    import torch

    inputs = tuple(example_input) if isinstance(example_input, (tuple, list)) else (
        example_input,)
    if not inputs or not all(isinstance(x, torch.Tensor) and x.dim() >= 1 for x in inputs):
        raise DesignError("the example input must be a tensor (or a tuple of tensors) with the "
                          "batch as its first dimension")
    if len({x.shape[0] for x in inputs}) != 1 or inputs[0].shape[0] < 1:
        raise DesignError("every example input must have the same batch size, at least 1")
    return inputs


def _one_more(x: Any) -> Any:
    """The same batch with its first sample repeated: a second batch size to trace with."""
    import torch

    return torch.cat([x, x[:1]])


def _check_problems(design: Design, network: str, origin: dict[str, Any],
                    translator: GraphTranslator) -> list[Refusal]:
    refusals = []
    for problem in check(design).errors_in(network):
        node = origin.get(problem.node)
        refusals.append(translator.refusal(node, problem.message) if node is not None
                        else Refusal("the design", problem.message))
    return refusals


def _left_out(module: Any, used: set[str]) -> list[str]:
    """The outermost submodules that forward never calls (nor anything inside them), leaving
    aside empty containers."""
    needed = set()
    for path in used:
        parts = path.split(".")
        needed.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
    left_out: list[str] = []
    for path, child in module.named_modules():
        if not path or path in needed or _inside(path, used) or _inside(path, left_out):
            continue
        if holds_computation(child):
            left_out.append(path)
    return left_out


def _inside(path: str, parents: Any) -> bool:
    parts = path.split(".")
    return any(".".join(parts[:end]) in parents for end in range(1, len(parts)))


def _description(module: Any, inputs: tuple[Any, ...], left_out: list[str],
                 training_only: list[str]) -> str:
    cls = type(module)
    shapes = ", ".join(str(tuple(x.shape[1:])) for x in inputs)
    text = (f"Imported from {cls.__module__}.{cls.__qualname__} (input {shapes}); it computes "
            "exactly what the module computes in evaluation mode.")
    if training_only:
        text += (f" Kept, though only training mode uses their results, so the original's "
                 f"weights load as they are: {', '.join(training_only)}.")
    if left_out:
        text += f" Left out, because forward never calls them: {', '.join(left_out)}."
    return text


def _verify(design: Design, network: str, module: Any, inputs: tuple[Any, ...],
            left_out: list[str]) -> dict[str, Any]:
    """Build the design, load the module's weights strictly and compare outputs bit for bit.

    The model is built on the meta device and takes the module's tensors as they are, so a
    large model is not initialised only to be overwritten.
    """
    import torch

    with torch.device("meta"):
        model = build_model(design, network)
    original = module.state_dict()
    keys = list(model.state_dict())
    missing = [key for key in keys if key not in original]
    extra = [key for key in original if key not in keys and not _inside(key, left_out)]
    if missing or extra:
        raise DesignError(f"internal error: the imported design's weights do not match the "
                          f"module's (missing {missing[:5]}, unexpected {extra[:5]})")
    weights = {key: original[key] for key in keys}
    model.load_state_dict(weights, strict=True, assign=True)
    take_fixed_buffers(model, module, design)
    with torch.no_grad():
        expected, actual = _flat(module(*inputs)), _flat(model.eval()(*inputs))
    if len(expected) != len(actual) or not all(
            a.shape == b.shape and torch.equal(a, b) for a, b in zip(expected, actual)):
        raise DesignError("internal error: the imported design does not compute exactly what "
                          f"{type(module).__name__} computes")
    return weights


def _flat(output: Any) -> list[Any]:
    if isinstance(output, dict):
        return list(output.values())
    return list(output) if isinstance(output, (tuple, list)) else [output]
