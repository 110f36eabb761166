"""Einstein summation (torch.einsum): products of tensors summed over the letters the output
leaves out, written as an equation.

MaxViT's attention computes its scores and weighted values this way
(`torch.einsum("B G H I D, B G H J D -> B G H I J", q, k)`). The equation is kept as written,
spaces included, so the exported code is the model's own line and computes what it did.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import ShapeError
from engine.layers.base import BATCH, EmitContext, LayerSpec, Param, TensorInfo, format_shape
from engine.layers.registry import register

# Letters for each input, separated by commas, then -> and the output's letters.
EQUATION_PATTERN = r"[A-Za-z ]*(,[A-Za-z ]*)*->[A-Za-z ]*"


@dataclass(frozen=True)
class Equation:
    """An equation's letters: one string per input, one for the output (spaces removed)."""

    inputs: tuple[str, ...]
    output: str

    @classmethod
    def parse(cls, text: str) -> Equation:
        left, _, right = text.replace(" ", "").partition("->")
        return cls(tuple(left.split(",")), right)


def letter_sizes(equation: Equation, inputs: list[TensorInfo]) -> dict[str, list[object]]:
    """Every letter's sizes, one per place it labels a dimension of an input; ShapeError when
    an input has a different number of dimensions than letters."""
    if len(equation.inputs) != len(inputs):
        raise ShapeError(f"Einsum: the equation names {len(equation.inputs)} inputs "
                         f"({', '.join(equation.inputs)}) but {len(inputs)} are connected",
                         "write one group of letters per input, separated by commas")
    sizes: dict[str, list[object]] = {}
    for port, (letters, info) in enumerate(zip(equation.inputs, inputs)):
        if len(letters) != info.rank:
            raise ShapeError(f"Einsum: input {port} {format_shape(info.shape)} has {info.rank} "
                             f"dimensions but the equation gives it {len(letters)} letters "
                             f"({letters or 'none'})", "write one letter per dimension")
        for letter, size in zip(letters, info.shape):
            sizes.setdefault(letter, []).append(size)
    return sizes


def letter_size(sizes: list[object]) -> object | None:
    """The size a letter stands for: its sizes agree, or those that differ are 1 (which
    broadcasts); None when they do not."""
    kept = set(sizes) - {1}
    return kept.pop() if len(kept) == 1 else (1 if not kept else None)


def _batch_letter(equation: Equation, inputs: list[TensorInfo]) -> str | None:
    """The letter of the batch: the first of every batched input, which must be nowhere else
    in the inputs and first in the output. None when no input has a batch."""
    batched = [(port, letters) for port, (letters, info) in
               enumerate(zip(equation.inputs, inputs)) if info.shape[:1] == (BATCH,)]
    if not batched:
        return None
    letter = batched[0][1][0]
    for port, letters in batched:
        if letters[0] != letter:
            raise ShapeError(f"Einsum: the batch of input {port} is letter {letters[0]!r}, but "
                             f"that of input {batched[0][0]} is {letter!r}",
                             "give every batched input's first dimension the same letter")
    for port, letters in enumerate(equation.inputs):
        start = 1 if (port, letters) in batched else 0
        if letter in letters[start:]:
            raise ShapeError(f"Einsum: the batch letter {letter!r} labels a dimension of input "
                             f"{port} ({letters}) other than its batch",
                             "use the batch letter only for the batches")
    if equation.output[:1] != letter:
        raise ShapeError(f"Einsum: the output {equation.output or '(none)'} must start with the "
                         f"batch letter {letter!r}, so the batch stays first",
                         "keep the batch letter first in the output")
    return letter


def _einsum_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    """torch.einsum's rule: every letter has one size (a 1 broadcasts), the output's letters
    appear in the inputs, once each; the batch keeps its place first."""
    equation = Equation.parse(p["equation"])
    sizes = letter_sizes(equation, inputs)
    _batch_letter(equation, inputs)
    for letter, found in sizes.items():
        if letter_size(found) is None:
            raise ShapeError(f"Einsum: letter {letter!r} labels dimensions of different sizes "
                             f"({', '.join(map(str, found))})",
                             "give dimensions of different sizes different letters")
    for letter in equation.output:
        if letter not in sizes:
            raise ShapeError(f"Einsum: the output's letter {letter!r} labels no input dimension")
        if equation.output.count(letter) > 1:
            raise ShapeError(f"Einsum: the output names letter {letter!r} twice")
    dtypes = {info.dtype for info in inputs}
    if dtypes != {"float"}:
        raise ShapeError(f"Einsum multiplies floating-point tensors, not {sorted(dtypes)}")
    return TensorInfo(tuple(letter_size(sizes[letter]) for letter in equation.output), "float")


def _emit_einsum(ctx: EmitContext) -> list[str]:
    return [f'{ctx.out} = torch.einsum("{ctx.params["equation"]}", {", ".join(ctx.inputs)})']


register(LayerSpec(
    name="Einsum", category="Arithmetic", min_inputs=1, max_inputs=None,
    explanation=(
        "Multiplies its inputs as an equation of letters says and sums over the letters the "
        "output leaves out: nij,nkj->nik is the attention scores of queries and keys, one "
        "letter per dimension. The batch's letter comes first in each batched input and in "
        "the output. MaxViT computes its attention this way."),
    params=(Param("equation", "text", "nij,nkj->nik",
                  "letters for each input's dimensions, separated by commas, then -> and the "
                  "output's letters (nij,nkj->nik)", pattern=EQUATION_PATTERN),),
    infer=_einsum_shape, emit=_emit_einsum))
