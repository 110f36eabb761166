"""Taking part of a tensor along one dimension: a range of positions, or a single one."""

from engine.errors import ShapeError
from engine.layers.base import (
    EmitContext,
    LayerSpec,
    Param,
    TensorInfo,
    format_shape,
    normalise_dim,
    sample_dim,
)
from engine.layers.registry import register


def _dim(inputs: list[TensorInfo], p: dict, layer: str) -> int:
    return sample_dim(p["dim"], inputs[0].rank, layer, "index", "use dim 1 or more")


def _slice_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    x = inputs[0]
    dim = _dim(inputs, p, "Slice")
    length = len(range(*slice(p["start"], p["end"], p["step"]).indices(x.shape[dim])))
    if length < 1:
        raise ShapeError(f"Slice {p['start']}:{p['end']} of dimension {dim} (size "
                         f"{x.shape[dim]}) is empty", "choose a start before the end")
    return x.splice(dim, dim + 1, length)


def _emit_slice(ctx: EmitContext) -> list[str]:
    p = ctx.params
    dim = normalise_dim(p["dim"], ctx.input_infos[0].rank, "Slice")
    bounds = f"{p['start'] or ''}:{'' if p['end'] is None else p['end']}"
    if p["step"] != 1:
        bounds += f":{p['step']}"
    return [f"{ctx.out} = {ctx.inputs[0]}[{':, ' * dim}{bounds}]"]


def _select_shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    x = inputs[0]
    dim = _dim(inputs, p, "Select")
    if not -x.shape[dim] <= p["index"] < x.shape[dim]:
        raise ShapeError(f"Select: index {p['index']} is outside dimension {dim} of "
                         f"{format_shape(x.shape)}")
    return x.splice(dim, dim + 1)


def _emit_select(ctx: EmitContext) -> list[str]:
    dim = normalise_dim(ctx.params["dim"], ctx.input_infos[0].rank, "Select")
    return [f"{ctx.out} = {ctx.inputs[0]}[{':, ' * dim}{ctx.params['index']}]"]


_DIM = Param("dim", "int", 1, "the dimension to index (not 0, the batch)")

register(
    LayerSpec(
        name="Slice", category="Reshape",
        explanation=(
            "Keeps positions start to end (exclusive) of one dimension, every step-th one. "
            "Use it to split channels into groups, or to crop a sequence; negative positions "
            "count from the end."),
        params=(_DIM,
                Param("start", "int", 0, "first position kept"),
                Param("end", "int", None, "position after the last one kept (empty: to the end)",
                      optional=True),
                Param("step", "int", 1, "keep every step-th position", minimum=1)),
        infer=_slice_shape, emit=_emit_slice),
    LayerSpec(
        name="Select", category="Reshape",
        explanation=(
            "Takes one position of a dimension and drops that dimension. With dim 1 and index "
            "-1 on an (N, length, features) sequence it gives the last step's features."),
        params=(_DIM, Param("index", "int", -1, "the position taken (-1: the last)")),
        infer=_select_shape, emit=_emit_select),
)
