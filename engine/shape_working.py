"""Why a shape is what it is: each layer's output-shape rule worked out with the user's numbers.

    shape_working("Conv2d", params, [TensorInfo(("N", 1, 8, 8))])
    -> [Line("channels = out_channels = 16"),
        Line("height = floor((8 + 2*1 - 1*(3-1) - 1) / 1) + 1 = 8"), ...]

The formulas live here, keyed by layer type, beside (not inside) the catalogue's shape rules:
a rule computes, a working explains. A line is `wrong` when the number it gives cannot be (a
size below 1, sizes that must agree and do not), so a shape error can show just the line with
the number to change (`with_working`, which the check applies to every ShapeError). Layers
that keep their input's shape say so; a layer with no working here gives no lines.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.errors import ShapeError
from engine.layers.base import BATCH, TensorInfo, as_tuple, conv_out, format_shape


@dataclass(frozen=True)
class Line:
    text: str
    wrong: bool = False

    def __str__(self) -> str:
        return self.text


Working = Callable[[dict[str, Any], list[TensorInfo]], list[Line]]
WORKINGS: dict[str, Working] = {}
SPATIAL_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("depth", "height", "width")}


def shape_working(layer_type: str, params: dict[str, Any],
                  inputs: list[TensorInfo]) -> list[Line]:
    """The working of the layer's output shape, or [] when there is none to show (the inputs
    do not fit the rule at all: the check's message says why)."""
    rule = WORKINGS.get(layer_type)
    try:
        return rule(params, inputs) if rule else _kept(layer_type, params, inputs)
    except (IndexError, KeyError, TypeError, ValueError, ZeroDivisionError, ShapeError):
        return []   # inputs too far from what the layer takes (a rank it does not accept)


def with_working(error: ShapeError, layer_type: str, params: dict[str, Any],
                 inputs: list[TensorInfo]) -> ShapeError:
    """The check's shape error with the wrong lines of the working added, so the user sees
    which number to change; the error itself when no line is wrong."""
    wrong = [line.text for line in shape_working(layer_type, params, inputs) if line.wrong]
    if not wrong:
        return error
    return ShapeError(f"{error}; working: {'; '.join(wrong)}", error.fix)


def working(*layer_types: str) -> Callable[[Working], Working]:
    def register(rule: Working) -> Working:
        for layer_type in layer_types:
            WORKINGS[layer_type] = rule
        return rule
    return register


def _kept(layer_type: str, params: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    """Layers that change values, not the shape (activations, norms, dropout) say so."""
    from engine.layers import get_layer

    if not inputs:
        return []
    result = get_layer(layer_type).infer(list(inputs), params)
    if isinstance(result, TensorInfo) and result.shape == inputs[0].shape:
        return [Line(f"{layer_type} keeps its input's shape {format_shape(result.shape)}")]
    return []


def _spatial(x: TensorInfo, n: int) -> tuple[str, ...]:
    """The names of x's n spatial dimensions; ValueError when x is not (N, C, *n sizes)."""
    if x.rank != n + 2:
        raise ValueError(f"not a {n}-D input")
    return SPATIAL_NAMES[n]


# ---------------------------------------------------------------------------- convolution

def _convolution(n: int, transposed: bool) -> Working:
    def rule(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
        x = inputs[0]
        names = _spatial(x, n)
        lines = [Line(f"channels = out_channels = {p['out_channels']}")]
        settings = zip(names, x.shape[2:], *(as_tuple(p[key], n) for key in (
            "kernel_size", "stride", "padding", "dilation")),
            as_tuple(p.get("output_padding", 0), n))
        for name, size, k, s, pad, dil, extra in settings:
            if transposed:
                out = (size - 1) * s - 2 * pad + dil * (k - 1) + extra + 1
                text = (f"{name} = ({size} - 1)*{s} - 2*{pad} + {dil}*({k}-1) + {extra} + 1 "
                        f"= {out}")
            else:
                out = conv_out(size, k, s, pad, dil)
                text = f"{name} = floor(({size} + 2*{pad} - {dil}*({k}-1) - 1) / {s}) + 1 = {out}"
            lines.append(Line(text, out < 1))
        return lines
    return rule


for _n in (1, 2, 3):
    working(f"Conv{_n}d")(_convolution(_n, transposed=False))
    working(f"ConvTranspose{_n}d")(_convolution(_n, transposed=True))


# ---------------------------------------------------------------------------- pooling

def _pooling(n: int) -> Working:
    def rule(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
        x = inputs[0]
        names = _spatial(x, n)
        stride = p["stride"] if p["stride"] is not None else p["kernel_size"]
        lines = [Line(f"channels stay {x.shape[1]}")]
        for name, size, k, s, pad in zip(names, x.shape[2:], as_tuple(p["kernel_size"], n),
                                         as_tuple(stride, n), as_tuple(p["padding"], n)):
            if 2 * pad > k:
                lines.append(Line(f"{name}: padding {pad} is more than half the kernel {k}",
                                  True))
                continue
            lines.append(_pooled_line(name, size, k, s, pad, p["ceil_mode"]))
        return lines
    return rule


def _pooled_line(name: str, size: int, k: int, s: int, pad: int, ceil_mode: bool) -> Line:
    """torch's pooling arithmetic; in ceil mode a last window starting past the input (in the
    padding) is dropped."""
    if not ceil_mode:
        out = (size + 2 * pad - k) // s + 1
        return Line(f"{name} = floor(({size} + 2*{pad} - {k}) / {s}) + 1 = {out}", out < 1)
    out = math.ceil((size + 2 * pad - k) / s) + 1
    text = f"{name} = ceil(({size} + 2*{pad} - {k}) / {s}) + 1 = {out}"
    if (out - 1) * s >= size + pad:
        out -= 1
        text += f" - 1 = {out} (the last window would start in the padding)"
    return Line(text, out < 1)


def _adaptive(n: int) -> Working:
    def rule(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
        x = inputs[0]
        names = _spatial(x, n)
        return [Line(f"channels stay {x.shape[1]}")] + [
            Line(f"{name} = output_size = {out} (whatever the input's {size})")
            for name, size, out in zip(names, x.shape[2:], as_tuple(p["output_size"], n))]
    return rule


for _n in (1, 2, 3):
    working(f"MaxPool{_n}d", f"AvgPool{_n}d")(_pooling(_n))
    working(f"AdaptiveAvgPool{_n}d", f"AdaptiveMaxPool{_n}d")(_adaptive(_n))


def _reduction(done: str) -> Working:
    """The working of Mean ("averaged") or Sum ("summed")."""
    def rule(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
        x = inputs[0]
        dims = [d % x.rank for d in p["dims"]]
        sizes = ", ".join(f"{x.shape[d]} (dimension {d})" for d in dims)
        fate = "kept with size 1" if p["keepdim"] else "removed"
        return [Line(f"{done} over {sizes}: {fate}"),
                *[Line(f"dimension 0, the batch, cannot be {done}", True)
                  for d in dims if d == 0]]
    return rule


working("Mean")(_reduction("averaged"))
working("Sum")(_reduction("summed"))


# ---------------------------------------------------------------------------- resizing

@working("Upsample")
def _upsample(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    x = inputs[0]
    names = SPATIAL_NAMES[x.rank - 2]
    scale = p["scale_factor"]
    return [Line(f"{name} = floor({size} * {scale:g}) = {int(size * scale)}",
                 int(size * scale) < 1) for name, size in zip(names, x.shape[2:])]


@working("Interpolate")
def _interpolate(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    x, reference = inputs
    names = SPATIAL_NAMES[x.rank - 2]
    sizes = reference.shape[-len(names):]
    return [Line(f"{name} = input 1's {name} = {size}", size == BATCH)
            for name, size in zip(names, sizes)]


@working("Pad")
def _pad(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    x, amounts = inputs[0], tuple(p["pad"])
    lines = []
    for pair in range(len(amounts) // 2):
        dim = x.rank - 1 - pair
        before, after = amounts[2 * pair], amounts[2 * pair + 1]
        out = x.shape[dim] + before + after
        lines.append(Line(f"dimension {dim} = {x.shape[dim]} + {before} + {after} = {out}",
                          out < 1))
    return lines


# ---------------------------------------------------------------------------- rearranging

@working("Flatten")
def _flatten(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    shape = inputs[0].shape
    start, end = p["start_dim"] % len(shape), p["end_dim"] % len(shape)
    merged = shape[start:end + 1]
    if start == 0:
        return [Line("start_dim 0 would merge the batch into the features", True)]
    return [Line(f"dimensions {start} to {end} become one: {' * '.join(map(str, merged))} "
                 f"= {math.prod(merged)}", end < start)]


@working("Unflatten")
def _unflatten(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    shape = inputs[0].shape
    dim = p["dim"] % len(shape)
    sizes = p["sizes"]
    product = math.prod(sizes)
    return [Line(f"dimension {dim} ({shape[dim]}) becomes {format_shape(tuple(sizes))}: "
                 f"{' * '.join(map(str, sizes))} = {product}"
                 + ("" if product == shape[dim] else f", but it must be {shape[dim]}"),
                 product != shape[dim])]


@working("Reshape")
def _reshape(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    features = inputs[0].features
    total = math.prod(features)
    target = tuple(p["shape"])
    known = math.prod(d for d in target if d != -1)
    lines = [Line(f"values per sample = {' * '.join(map(str, features))} = {total}")]
    if -1 in target:
        lines.append(Line(f"-1 = {total} / {known} = {total / known:g}", total % known != 0))
    else:
        lines.append(Line(f"{' * '.join(map(str, target))} = {known}"
                          + ("" if known == total else f", but it must be {total}"),
                          known != total))
    return lines


@working("Transpose")
def _transpose(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    x = inputs[0]
    first, second = p["dim0"] % x.rank, p["dim1"] % x.rank
    return [Line(f"dimensions {first} ({x.shape[first]}) and {second} ({x.shape[second]}) "
                 "swap places", 0 in (first, second))]


@working("Permute")
def _permute(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    x = inputs[0]
    dims = tuple(p["dims"])
    return [Line(f"dimension {i} takes dimension {d} ({x.shape[d]})") for i, d in
            enumerate(dims)]


@working("Slice")
def _slice(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    x = inputs[0]
    dim = p["dim"] % x.rank
    size = x.shape[dim]
    start, end, step = slice(p["start"], p["end"], p["step"]).indices(size)
    length = len(range(start, end, step))
    return [Line(f"dimension {dim} = positions {start} to {end} (exclusive) of {size}, every "
                 f"{step}: ceil(({end} - {start}) / {step}) = {length}", length < 1)]


@working("Select")
def _select(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    x = inputs[0]
    dim = p["dim"] % x.rank
    inside = -x.shape[dim] <= p["index"] < x.shape[dim]
    return [Line(f"dimension {dim} ({x.shape[dim]} positions) is removed: position "
                 f"{p['index']} is kept", not inside)]


@working("Expand")
def _expand(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    x, sizes = inputs[0], tuple(p["sizes"])
    shape = (*(None,) * (len(sizes) - x.rank), *x.shape)
    return [Line(f"dimension {i}: {'new' if old is None else old} -> "
                 f"{old if wanted == -1 else wanted}",
                 old not in (None, 1, wanted) and wanted != -1)
            for i, (old, wanted) in enumerate(zip(shape, sizes))]


# ---------------------------------------------------------------------------- pieces

def _cut(p: dict[str, Any], inputs: list[TensorInfo]) -> tuple[int, int]:
    x = inputs[0]
    dim = p["dim"] % x.rank
    return dim, x.shape[dim]


@working("Chunk")
def _chunk(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    dim, size = _cut(p, inputs)
    step = -(-size // p["chunks"])
    pieces = -(-size // step)
    return [Line(f"dimension {dim}: pieces of ceil({size} / {p['chunks']}) = {step}, so "
                 f"{pieces} pieces", pieces != p["chunks"])]


@working("Split")
def _split(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    dim, size = _cut(p, inputs)
    sizes = tuple(p["sizes"])
    return [Line(f"dimension {dim}: {' + '.join(map(str, sizes))} = {sum(sizes)}"
                 + ("" if sum(sizes) == size else f", but it has {size}"), sum(sizes) != size)]


@working("Unbind")
def _unbind(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    dim, size = _cut(p, inputs)
    return [Line(f"dimension {dim} is removed: one output per position, {size} outputs",
                 size != p["count"])]


# ---------------------------------------------------------------------------- dense and recurrent

@working("Backbone")
def _backbone(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    from engine.layers import get_layer

    out = get_layer("Backbone").infer(inputs, p)
    return [Line(f"{p['arch']} turns each {inputs[0].shape[1]}-channel image into a vector of "
                 f"{out.shape[-1]} features: {format_shape(out.shape)}")]


@working("Linear")
def _linear(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    x = inputs[0]
    return [Line(f"last dimension {x.shape[-1]} -> out_features = {p['out_features']} "
                 f"(weight {p['out_features']} x {x.shape[-1]}); the others stay")]


@working("Embedding")
def _embedding(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    x = inputs[0]
    return [Line(f"each id becomes embedding_dim = {p['embedding_dim']} numbers: "
                 f"{format_shape(x.shape)} -> {format_shape((*x.shape, p['embedding_dim']))}")]


@working("RNN", "LSTM", "GRU")
def _recurrent(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    x = inputs[0]
    directions = 2 if p["bidirectional"] else 1
    width = p["hidden_size"] * directions
    lines = [Line(f"features = hidden_size * directions = {p['hidden_size']} * {directions} "
                  f"= {width}")]
    if p["output"] == "last":
        lines.append(Line(f"output 'last': the state after the last of the {x.shape[1]} steps,"
                          f" (N, {width})"))
    else:
        lines.append(Line(f"output 'sequence': a state per step, (N, {x.shape[1]}, {width})"))
    return lines


# ---------------------------------------------------------------------------- attention

def _heads(embed: int, heads: int, setting: str) -> Line:
    return Line(f"each of {setting} = {heads} heads works on {embed} / {heads} = "
                f"{embed / heads:g} features", embed % heads != 0)


@working("MultiheadAttention")
def _multihead(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    query = inputs[0]
    key = inputs[1] if len(inputs) == 3 else query
    lines = [Line(f"output = the query's shape {format_shape(query.shape)}"),
             _heads(query.shape[-1], p["num_heads"], "num_heads")]
    if p["need_weights"]:
        heads = "" if p["average_attn_weights"] else f"{p['num_heads']} heads, "
        lines.append(Line(f"weights = (N, {heads}query length {query.shape[1]}, key length "
                          f"{key.shape[1]})"))
    return lines


@working("TransformerEncoderLayer", "TransformerDecoderLayer")
def _transformer(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    x = inputs[0]
    lines = [Line(f"output = the {'target' if len(inputs) == 2 else 'input'}'s shape "
                  f"{format_shape(x.shape)}"),
             _heads(x.shape[-1], p["nhead"], "nhead"),
             Line(f"inside, each position goes {x.shape[-1]} -> dim_feedforward "
                  f"{p['dim_feedforward']} -> {x.shape[-1]}")]
    if len(inputs) == 2:
        memory = inputs[1].shape[-1]
        lines.append(Line(f"the memory's embedding {memory} must equal the target's "
                          f"{x.shape[-1]}", memory != x.shape[-1]))
    return lines


@working("ScaledDotProductAttention")
def _scaled_attention(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    query, key, value = inputs[:3]  # (a mask, input 3, changes no size)
    out = (*query.shape[:-1], value.shape[-1])
    return [Line(f"output = (..., query length {query.shape[-2]}, value features "
                 f"{value.shape[-1]}) = {format_shape(out)}"),
            Line(f"query features {query.shape[-1]} must equal key features {key.shape[-1]}",
                 query.shape[-1] != key.shape[-1]),
            Line(f"key length {key.shape[-2]} must equal value length {value.shape[-2]}",
                 key.shape[-2] != value.shape[-2])]


@working("ShiftedWindowAttention", "ShiftedWindowAttentionV2")
def _window_attention(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    x = inputs[0]
    return [Line(f"output = the input's shape {format_shape(x.shape)}"),
            Line(f"channels {x.shape[-1]} must equal dim {p['dim']}", x.shape[-1] != p["dim"]),
            _heads(p["dim"], p["num_heads"], "num_heads")]


@working("PatchMerging", "PatchMergingV2")
def _patch_merging(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    x = inputs[0]
    height, width, channels = x.shape[1:]
    return [Line(f"height = ceil({height} / 2) = {-(-height // 2)}"),
            Line(f"width = ceil({width} / 2) = {-(-width // 2)}"),
            Line(f"channels = 2 * dim = 2 * {p['dim']} = {2 * p['dim']} (the input's "
                 f"{channels} must equal dim)", channels != p["dim"])]


# ---------------------------------------------------------------------------- merging

@working("Concat")
def _concat(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    first = inputs[0]
    dim = p["dim"] % first.rank
    sizes = [info.shape[dim] for info in inputs]
    return [Line(f"dimension {dim} = {' + '.join(map(str, sizes))} = {sum(sizes)}"),
            *_disagreements(inputs, skip=dim)]


@working("Stack")
def _stack(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    dim = p["dim"] % (inputs[0].rank + 1)
    return [Line(f"a new dimension {dim} of size {len(inputs)}, one per input"),
            *_disagreements(inputs, skip=None)]


def _disagreements(inputs: list[TensorInfo], skip: int | None) -> list[Line]:
    """A wrong line for each dimension (but `skip`) where an input differs from input 0."""
    first = inputs[0]
    return [Line(f"dimension {dim}: input {port} has {size} but input 0 has "
                 f"{first.shape[dim]}; they must agree", True)
            for port, info in enumerate(inputs[1:], start=1)
            for dim, size in enumerate(info.shape)
            if dim != skip and dim < first.rank and size != first.shape[dim]]


@working("Add", "Multiply", "Subtract", "Divide", "Power")
def _broadcast(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    """Sizes line up from the right; at each dimension they are equal, or 1 (which repeats)."""
    rank = max(info.rank for info in inputs)
    if all(info.shape == inputs[0].shape for info in inputs):
        return [Line(f"inputs of the same shape {format_shape(inputs[0].shape)} keep it")]
    lines = []
    for position in range(rank, 0, -1):
        sizes = [info.shape[-position] if info.rank >= position else 1 for info in inputs]
        if len(set(sizes)) > 1:
            kept = {size for size in sizes if size != 1}
            result = kept.pop() if len(kept) == 1 else "?"
            lines.append(Line(f"dimension {rank - position}: {' and '.join(map(str, sizes))} "
                              f"-> {result} (a size of 1 repeats)", result == "?"))
    return lines


@working("MatMul")
def _matmul(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    left, right = inputs
    a = (1, *left.shape) if left.rank == 1 else left.shape
    b = (*right.shape, 1) if right.rank == 1 else right.shape
    return [Line(f"(..., {a[-2]}, {a[-1]}) @ (..., {b[-2]}, {b[-1]}) -> (..., {a[-2]}, "
                 f"{b[-1]}); {a[-1]} and {b[-2]} are summed over", a[-1] != b[-2])]


@working("Einsum")
def _einsum(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    from engine.layers.catalogue.einsum import Equation, letter_size, letter_sizes

    equation = Equation.parse(p["equation"])
    sizes = letter_sizes(equation, inputs)
    lines = [Line(f"{letter} = {' = '.join(map(str, found))}", letter_size(found) is None)
             for letter, found in sizes.items()]
    summed = [letter for letter in sizes if letter not in equation.output]
    if summed:
        lines.append(Line(f"{', '.join(summed)} {'is' if len(summed) == 1 else 'are'} summed "
                          "over"))
    shape = tuple(letter_size(sizes.get(letter, [])) for letter in equation.output)
    lines.append(Line(f"output {equation.output or '(none)'} = {format_shape(shape)}"))
    return lines


@working("Take")
def _take(p: dict[str, Any], inputs: list[TensorInfo]) -> list[Line]:
    source, index = inputs
    dim = p["dim"] % source.rank
    return [Line(f"dimension {dim} ({source.shape[dim]} positions) is replaced by the index's "
                 f"shape {format_shape(index.shape)}")]
