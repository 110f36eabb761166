"""Tensors a model owns and reads directly in `forward`: learned (Parameter) or fixed (Buffer).

ViT's class token and position embedding, LayerScale's gamma and Swin's bias table are tensors,
not layers: the model holds `self.cls_token = nn.Parameter(torch.zeros(1, 1, 768))` and other
nodes consume it. The node's tensor is the attribute itself, so its state_dict key is the
node's name (`cls_token`), as in hand-written PyTorch (engine.compiler attaches it).
"""

from math import prod
from typing import Any

from engine.errors import ShapeError
from engine.layers.base import LayerSpec, Param, TensorInfo, format_shape
from engine.layers.module_call import ModuleCall, module_call
from engine.layers.registry import register
from engine.limits import LARGEST_WHOLE_NUMBER

_INITS = ("zeros", "ones", "constant", "normal", "tril")
# A Buffer may also count along its last dimension (a table of positions, `arange`), hold
# whole numbers given one by one (`values`: an index table, a mask an import computed), or
# hold Swin's attention mask for shifted windows (`shifted_windows`, made from its sizes).
_BUFFER_INITS = (*_INITS, "arange", "values", "shifted_windows")
_WINDOW_MASK = "engine.training.portable.windows.shifted_window_mask"
# The most numbers a Buffer's stored values hold (a table of 256 x 256 positions).
_MOST_VALUES = 65536
# A Buffer's dtype -> the value `torch.full` fills with for init "ones"/"constant", which also
# gives the tensor its dtype (`torch.full((8, 8), True)` holds booleans).
_FILL_TYPES = {"float": float, "long": int, "bool": bool}


def _shape(inputs: list[TensorInfo], p: dict) -> TensorInfo:
    """The tensor's own shape, with no batch dimension: it is the same for every sample."""
    shape = tuple(p["shape"])
    if any(size < 1 for size in shape):
        raise ShapeError(f"every size of the tensor's shape must be at least 1, got "
                         f"{format_shape(shape)}")
    dtype = p.get("dtype", "float")
    if dtype != "float" and p["init"] == "normal":
        raise ShapeError(f"init 'normal' draws floating-point values, but the buffer's dtype "
                         f"is {dtype}", "choose init zeros, ones, constant or tril")
    if p["init"] == "tril" and len(shape) < 2:
        raise ShapeError(f"init 'tril' fills the lower triangle of the last two dimensions, "
                         f"but the shape {format_shape(shape)} has fewer",
                         "give the tensor at least two dimensions, (8, 8) for a causal mask")
    if p["init"] == "arange" and dtype == "bool":
        raise ShapeError("init 'arange' counts 0, 1, 2, ..., but the buffer's dtype is bool",
                         "choose dtype long (positions) or float")
    if p["init"] == "values":
        _check_values(shape, dtype, p["values"])
    if p["init"] == "shifted_windows":
        _check_windows(shape, dtype, p["windows"])
    return TensorInfo(shape, dtype)


def _check_windows(shape: tuple[int, ...], dtype: str, windows: tuple[int, ...]) -> None:
    """The sizes of init 'shifted_windows' must cut the feature map into whole windows, shift
    by less than a window, and give the mask the node's shape."""
    if dtype != "float" or len(windows) != 6:
        raise ShapeError("init 'shifted_windows' makes a float mask from six sizes: the "
                         "feature map's height and width, the window's, and the shift's",
                         "choose dtype float and give windows six whole numbers")
    height, width, rows, columns, down, right = windows
    if height % rows or width % columns or not (0 < down < rows and 0 < right < columns):
        raise ShapeError(f"init 'shifted_windows': windows of {rows} x {columns} must tile the "
                         f"{height} x {width} feature map, and each shift ({down}, {right}) "
                         "must be at least 1 and smaller than the window")
    tokens = rows * columns
    made = ((height // rows) * (width // columns), tokens, tokens)
    if shape != made:
        raise ShapeError(f"init 'shifted_windows' with windows {windows} makes a mask of shape "
                         f"{format_shape(made)}, but the shape is {format_shape(shape)}",
                         f"set shape to {list(made)}")


def _check_values(shape: tuple[int, ...], dtype: str, values: tuple[int, ...]) -> None:
    if dtype == "float":
        raise ShapeError("init 'values' holds whole numbers, but the buffer's dtype is float",
                         "choose dtype long (an index table) or bool (a mask)")
    if len(values) != prod(shape):
        raise ShapeError(f"init 'values' gives {len(values)} numbers for the shape "
                         f"{format_shape(shape)}, which holds {prod(shape)}",
                         "give one number per entry, row after row")
    if dtype == "bool" and set(values) - {0, 1}:
        raise ShapeError("a bool buffer's values must be 0 (False) or 1 (True)")


def _initial_values(p: dict) -> ModuleCall:
    """The call that makes the starting values (`torch.zeros(1, 1, 768)`); a long or bool
    buffer is filled with an int or a bool, which gives it its dtype."""
    shape, init = tuple(p["shape"]), p["init"]
    fill = _FILL_TYPES[p.get("dtype", "float")]
    if init == "normal":
        return module_call("torch.normal", mean=0.0, std=p["std"], size=shape)
    if init == "tril":
        return module_call("torch.tril", _initial_values({**p, "init": "ones"}))
    if init == "values":
        return module_call("torch.tensor", _nested([fill(v) for v in p["values"]], shape))
    if init == "shifted_windows":
        height, width, rows, columns, down, right = p["windows"]
        return module_call(_WINDOW_MASK, (height, width), (rows, columns), (down, right))
    if init == "arange":
        count = module_call("torch.arange", fill(shape[-1]))
        return count if len(shape) == 1 else module_call("torch.broadcast_to", count, shape)
    if fill is float and init in ("zeros", "ones"):
        return module_call(f"torch.{init}", *shape)
    return module_call("torch.full", shape, fill({"zeros": 0, "ones": 1}.get(init, p["value"])))


def _nested(values: list[Any], shape: tuple[int, ...]) -> list[Any]:
    """Flat values as nested lists of `shape`, row after row: the literal torch.tensor takes."""
    if len(shape) == 1:
        return values
    step = len(values) // shape[0]
    return [_nested(values[start:start + step], shape[1:])
            for start in range(0, len(values), step)]


def _parameter_call(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    return module_call("torch.nn.Parameter", _initial_values(p))


def _buffer_call(inputs: list[TensorInfo], p: dict) -> ModuleCall:
    """A buffer left out of the state_dict (persistent False) gets its values from its init
    alone, as Hugging Face's `position_ids` do."""
    return module_call("torch.nn.Buffer", _initial_values(p), persistent=p["persistent"],
                       defaults={"persistent": True})


def _warn_unused_settings(inputs: list[TensorInfo], p: dict) -> list[tuple[str, str]]:
    """A value or std the chosen init ignores was probably meant to take effect."""
    unused = {"value": "constant", "std": "normal", "values": "values",
              "windows": "shifted_windows"}
    defaults = {param.name: param.default for param in (*_PARAMS, *_BUFFER_PARAMS)}
    return [(f"{name} is {p[name]} but only init '{init}' reads it (init is '{p['init']}')",
             f"set init to '{init}', or {name} back to {defaults[name]}")
            for name, init in unused.items()
            if name in p and p["init"] != init and p[name] != defaults[name]]


_SHAPE = Param("shape", "ints", (64,), "the tensor's full shape (no batch: the same tensor "
               "serves every sample; (1, 1, 768) for a class token)", minimum=1)
_INIT_HELP = "the starting values"
_PARAMS = (
    _SHAPE,
    Param("init", "choice", "zeros", _INIT_HELP, choices=_INITS),
    Param("value", "float", 1.0, "the starting value of every entry, for init 'constant'"),
    Param("std", "float", 0.02, "the standard deviation, for init 'normal' (mean 0)",
          minimum=0),
)
_BUFFER_PARAMS = (
    _SHAPE,
    Param("init", "choice", "zeros", f"{_INIT_HELP}; 'arange' counts 0, 1, 2, ... along the "
          "last dimension (positions)", choices=_BUFFER_INITS),
    *_PARAMS[2:],
    Param("dtype", "choice", "float", "what the tensor holds: floats, integers (long) or "
          "booleans (bool, a mask)", choices=tuple(_FILL_TYPES)),
    Param("persistent", "bool", True, "saved with the weights (in the state_dict); off, the "
          "init alone gives its values each time the model is made"),
    Param("values", "ints", (0,), "every entry, row after row, for init 'values' (whole "
          "numbers; 0 and 1 for a bool mask)", minimum=-LARGEST_WHOLE_NUMBER,
          longest=_MOST_VALUES),
    Param("windows", "ints", (8, 8, 4, 4, 2, 2), "for init 'shifted_windows' (Swin's "
          "attention mask: 0 within a region, -100 between regions the shift joined): the "
          "feature map's height and width, a window's height and width, the shift down and "
          "right", minimum=1),
)

register(
    LayerSpec(
        name="Parameter", category="Input / Output", min_inputs=0, max_inputs=0,
        explanation=(
            "A learned tensor that other nodes read directly, such as the class token of a "
            "Vision Transformer (concatenated in front of the patches after an Expand to the "
            "batch), its position embedding (added), or LayerScale's per-channel gamma "
            "(multiplied). Its shape has no batch dimension, and sizes of 1 broadcast when it "
            "is added or multiplied."),
        params=_PARAMS, infer=_shape, count_params=lambda inputs, p: prod(p["shape"]),
        constructor=_parameter_call, is_attribute=True, warn=_warn_unused_settings),
    LayerSpec(
        name="Buffer", category="Input / Output", min_inputs=0, max_inputs=0,
        explanation=(
            "A fixed tensor saved with the model's weights but never trained, such as an "
            "attention mask (init 'tril' makes a causal one) or a table of constants. It moves "
            "to the GPU with the model and other nodes read it like a Parameter's tensor; it "
            "may hold floats, integers or booleans. A buffer that is not persistent is left "
            "out of the saved weights: its init makes its values (positions 0, 1, 2, ... with "
            "init 'arange'; an index table or a mask given entry by entry with init "
            "'values'; Swin's attention mask for shifted windows, from its sizes, with init "
            "'shifted_windows')."),
        params=_BUFFER_PARAMS, infer=_shape, constructor=_buffer_call, is_attribute=True,
        warn=_warn_unused_settings),
)
