"""`torch.einsum(equation, *operands)`: an Einsum node with the equation as written.

The Einsum layer (engine.layers.catalogue.einsum) keeps the batch first: the first letter of
each batched operand must be the output's first. Its shape rule checks that here, on the
traced shapes, so an equation the design cannot hold is refused naming why.
"""

from __future__ import annotations

from typing import Any

from engine.errors import ShapeError
from engine.importing.layers import Unsupported
from engine.layers import TensorInfo, get_layer


def translate_einsum(translator: Any, node: Any) -> None:
    """Add the Einsum node for one einsum call; Unsupported when its equation uses '...' or
    moves the batch."""
    equation, *operands = node.args
    if len(operands) == 1 and isinstance(operands[0], (tuple, list)):
        operands = list(operands[0])
    equation = translator._static(equation)
    if not isinstance(equation, str) or node.kwargs:
        raise Unsupported("takes arguments NeuralCanvas cannot express (an equation and "
                          "tensors)")
    if "." in equation:
        raise Unsupported(f"uses '...' in its equation {equation!r}; the Einsum layer names "
                          "every dimension with a letter")
    if "->" not in equation:
        equation = explicit(equation)
    infos = [_info(translator, operand) for operand in operands]
    try:
        get_layer("Einsum").infer(infos, {"equation": equation})
    except ShapeError as err:
        raise Unsupported(str(err)) from None
    translator._produce(node, "Einsum", [translator._tensor(operand) for operand in operands],
                        equation=equation)


def explicit(equation: str) -> str:
    """An equation without '->' with its output written out as torch reads it: the letters
    that appear once, in alphabetical order (capitals first)."""
    letters = equation.replace(" ", "").replace(",", "")
    return f"{equation}->{''.join(sorted({c for c in letters if letters.count(c) == 1}))}"


def _info(translator: Any, operand: Any) -> TensorInfo:
    """The operand's shape as the design holds it: batch first as N, or its whole shape."""
    if not translator._is_tensor(operand):
        raise Unsupported("multiplies something that is not a tensor")
    if translator._batched(operand):
        return translator._info(operand)
    meta = translator.first[operand]
    return TensorInfo(tuple(meta.shape), "float" if meta.dtype.is_floating_point else "long")
