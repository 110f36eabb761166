"""What each Keras layer becomes in a design.

A reader takes one layer call's arguments (`Args`), reporting what it cannot map, and returns
an emitter: given the Builder and the incoming tensors, it adds the layer's nodes and returns
the tensor it makes. Keras's 'same' padding becomes the symmetric padding that gives Keras's
output size, found from the actual input size; when none does, that is a problem.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.errors import ShapeError
from engine.importing.keras_arguments import Args, Findings, activation_name
from engine.importing.keras_building import FIRST, LAST, Builder, Tensor, has_layer, keras_shape
from engine.importing.keras_values import CallValue
from engine.layers.base import as_tuple, conv_out

Emit = Callable[[Builder, list[Tensor]], Tensor]
Reader = Callable[[Args], Emit]

# Keras activation names and the layer (with parameters) each becomes.
ACTIVATIONS = {
    "relu": ("ReLU", {}), "sigmoid": ("Sigmoid", {}), "tanh": ("Tanh", {}),
    "softmax": ("Softmax", {}), "log_softmax": ("LogSoftmax", {}), "elu": ("ELU", {}),
    "gelu": ("GELU", {}), "swish": ("SiLU", {}), "silu": ("SiLU", {}), "relu6": ("ReLU6", {}),
    "hard_swish": ("Hardswish", {}), "hard_silu": ("Hardswish", {}),
    "hard_sigmoid": ("Hardsigmoid", {}), "leaky_relu": ("LeakyReLU", {"negative_slope": 0.2}),
    "selu": ("SELU", {}), "softplus": ("Softplus", {}), "softsign": ("Softsign", {}),
    "mish": ("Mish", {}),
}
_SOFTMAXES = ("Softmax", "LogSoftmax")
MERGING = ("Concatenate", "Add", "Multiply")
# Layers that prepare or augment data: left out, as the data settings do that work here.
PREPROCESSING = ("Rescaling", "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation",
                 "RandomContrast", "RandomBrightness")
NOT_READ = "is not a Keras layer NeuralCanvas reads"
_RECURRENT = {"SimpleRNN": "RNN", "LSTM": "LSTM", "GRU": "GRU"}
_GATES = {"SimpleRNN": 1, "LSTM": 4}


# ---------------------------------------------------------------------------- activations

def read_activation(args: Args, name: str = "activation", default: str | None = None):
    """The (layer, params) an activation argument becomes, or None for none."""
    value = activation_name(args.take(name, default))
    if value is None:
        return None
    if not isinstance(value, str) or value not in ACTIVATIONS:
        args.problem(f"{name}={getattr(value, 'text', value)!r} is not an activation "
                     f"NeuralCanvas reads ({', '.join(sorted(ACTIVATIONS))})")
        return None
    layer, params = ACTIVATIONS[value]
    if not has_layer(layer):
        args.problem(f"the activation {value!r} has no NeuralCanvas layer yet")
        return None
    return layer, params


def activate(b: Builder, x: Tensor, activation, axis: int = -1) -> Tensor:
    if activation is None:
        return x
    layer, params = activation
    if layer in _SOFTMAXES:
        params = {"dim": b.axis(x, axis)}
    return b.add(layer, [x], **params)


def _activation_layer(args: Args) -> Emit:
    activation = read_activation(args)
    return lambda b, xs: activate(b, xs[0], activation)


def _relu(args: Args) -> Emit:
    maximum = args.take("max_value", None)
    args.expect("negative_slope", (0, 0.0))
    args.expect("threshold", (0, 0.0))
    if maximum not in (None, 6, 6.0):
        args.problem(f"max_value={maximum!r} is not read (only None, or 6 for ReLU6)")
    layer = "ReLU6" if maximum in (6, 6.0) else "ReLU"
    return lambda b, xs: b.add(layer, [xs[0]])


def _leaky_relu(args: Args) -> Emit:
    slope = args.number("negative_slope", args.number("alpha", 0.3))
    return lambda b, xs: b.add("LeakyReLU", [xs[0]], negative_slope=slope)


def _elu(args: Args) -> Emit:
    alpha = args.number("alpha", 1.0)
    return lambda b, xs: b.add("ELU", [xs[0]], alpha=alpha)


def _softmax(args: Args) -> Emit:
    axis = args.whole("axis", -1, minimum=-8)
    return lambda b, xs: activate(b, xs[0], ("Softmax", {}), axis)


# ---------------------------------------------------------------------------- dense

def _dense(args: Args) -> Emit:
    units = args.whole("units")
    bias = args.flag("use_bias", True)
    activation = read_activation(args)

    def emit(b: Builder, xs: list[Tensor]) -> Tensor:
        x = b.arrange(xs[0], LAST)   # Dense acts on the last axis, Keras's channels
        return activate(b, b.add("Linear", [x], out_features=units, bias=bias), activation)
    return emit


def _embedding(args: Args) -> Emit:
    count, width = args.whole("input_dim"), args.whole("output_dim")
    if args.flag("mask_zero", False):
        args.findings.note(args.line, "mask_zero is not carried over: padded steps are read "
                           "like any other by the recurrent layers")
    return lambda b, xs: b.add("Embedding", [xs[0]], LAST, num_embeddings=count,
                               embedding_dim=width)


def _time_distributed(args: Args) -> Emit:
    inner = args.take("layer")
    if isinstance(inner, CallValue) and inner.name == "Dense":
        return _nested(args, inner, _dense, ("units", "activation", "use_bias"))
    args.problem(f"only TimeDistributed(Dense(...)) is read, not "
                 f"{getattr(inner, 'text', inner)!r}")
    return _unused


# ---------------------------------------------------------------------------- convolution

def _convolution(n: int) -> Reader:
    def read(args: Args) -> Emit:
        filters = args.whole("filters")
        kernel = args.size("kernel_size", n)
        strides = args.size("strides", n, 1)
        padding = args.expect("padding", ("valid", "same"))
        args.expect("data_format", (None, "channels_last"))
        dilation = args.size("dilation_rate", n, 1)
        groups = args.whole("groups", 1)
        bias = args.flag("use_bias", True)
        activation = read_activation(args)

        def emit(b: Builder, xs: list[Tensor]) -> Tensor:
            x = b.arrange(xs[0], FIRST)
            pad = _same_conv_padding(x, kernel, strides, dilation, n) if padding == "same" else 0
            y = b.add(f"Conv{n}d", [x], FIRST, out_channels=filters, kernel_size=kernel,
                      stride=strides, padding=pad, dilation=dilation, groups=groups, bias=bias)
            return activate(b, y, activation)
        return emit
    return read


def _same_conv_padding(x: Tensor, kernel, stride, dilation, n: int):
    """The symmetric padding that gives Keras's 'same' output size, ceil(size / stride)."""
    pads = []
    for size, k, s, d in zip(x.info.shape[2:], as_tuple(kernel, n), as_tuple(stride, n),
                             as_tuple(dilation, n)):
        span, wanted = d * (k - 1), -(-size // s)
        total = max((wanted - 1) * s + span + 1 - size, 0)
        pad = next((p for p in (span // 2, total // 2, (total + 1) // 2)
                    if conv_out(size, k, s, p, d) == wanted), None)
        if pad is None:
            raise ShapeError(f"padding='same' with kernel {k} and stride {s} pads one side "
                             f"more than the other on a size of {size}; NeuralCanvas pads both "
                             "sides alike (use an odd kernel size)")
        pads.append(pad)
    return _compact(pads)


def _compact(sizes: list[int]) -> int | tuple[int, ...]:
    """One int when every axis has the same size, as torch's arguments are usually written."""
    return sizes[0] if len(set(sizes)) == 1 else tuple(sizes)


def _conv_transpose(args: Args) -> Emit:
    filters = args.whole("filters")
    kernel = args.size("kernel_size", 2)
    strides = args.size("strides", 2, 1)
    padding = args.expect("padding", ("valid", "same"))
    args.expect("output_padding", (None,))
    args.expect("data_format", (None, "channels_last"))
    args.expect("dilation_rate", (1, (1, 1)))
    bias = args.flag("use_bias", True)
    activation = read_activation(args)

    def emit(b: Builder, xs: list[Tensor]) -> Tensor:
        x = b.arrange(xs[0], FIRST)
        pads, extra = [], []
        for k, s in zip(as_tuple(kernel, 2), as_tuple(strides, 2)):
            # torch: (size - 1) * s - 2p + k + extra; Keras: size * s, plus k - s when 'valid'
            surplus = k - s - (max(k - s, 0) if padding == "valid" else 0)
            pad = max(-(-surplus // 2), 0)
            pads.append(pad)
            extra.append(2 * pad - surplus)
            if not 0 <= extra[-1] < s:
                raise ShapeError(f"padding='{padding}' with kernel {k} and stride {s} has no "
                                 "symmetric PyTorch equivalent")
        y = b.add("ConvTranspose2d", [x], FIRST, out_channels=filters, kernel_size=kernel,
                  stride=strides, padding=_compact(pads), output_padding=_compact(extra),
                  bias=bias)
        return activate(b, y, activation)
    return emit


# ---------------------------------------------------------------------------- pooling

def _pooling(kind: str, n: int) -> Reader:
    layer = f"{kind}Pool{n}d"

    def read(args: Args) -> Emit:
        size = args.size("pool_size", n, 2)
        strides = args.size("strides", n, None) or size
        padding = args.expect("padding", ("valid", "same"))
        args.expect("data_format", (None, "channels_last"))
        if not has_layer(layer):
            args.problem(f"NeuralCanvas has no {layer} layer yet")

        def emit(b: Builder, xs: list[Tensor]) -> Tensor:
            x = b.arrange(xs[0], FIRST)
            options = {"kernel_size": size, "stride": None if strides == size else strides}
            if padding == "same":
                options.update(_same_pool_options(b, layer, x, options, n))
            return b.add(layer, [x], FIRST, **options)
        return emit
    return read


def _same_pool_options(b: Builder, layer: str, x: Tensor, options: dict, n: int) -> dict:
    """Padding and ceil mode that give Keras's 'same' pooled size, ceil(size / stride)."""
    kernel = as_tuple(options["kernel_size"], n)
    stride = as_tuple(options["stride"] or options["kernel_size"], n)
    wanted = tuple(-(-size // s) for size, s in zip(x.info.shape[2:], stride))
    odd = _compact([k // 2 if k % 2 else 0 for k in kernel])
    for padding, ceil_mode in ((odd, False), (odd, True), (0, True)):
        info = b.fits(layer, [x], **options, padding=padding, ceil_mode=ceil_mode)
        if info is not None and tuple(info.shape[2:]) == wanted:
            return {"padding": padding, "ceil_mode": ceil_mode}
    raise ShapeError(f"padding='same' with pool size {options['kernel_size']} has no "
                     "symmetric PyTorch equivalent on this input")


def _global_pooling(kind: str, n: int) -> Reader:
    def read(args: Args) -> Emit:
        args.expect("data_format", (None, "channels_last"))
        keep = args.flag("keepdims", False)
        if kind == "Max" and not has_layer(f"MaxPool{n}d"):
            args.problem(f"NeuralCanvas has no MaxPool{n}d layer yet")

        def emit(b: Builder, xs: list[Tensor]) -> Tensor:
            x = xs[0]
            if kind == "Average":   # the mean over the spatial axes, wherever they are
                first = 2 if x.layout == FIRST else 1
                return b.add("Mean", [x], dims=tuple(range(first, first + n)), keepdim=keep)
            x = b.arrange(x, FIRST)
            pooled = b.add(f"MaxPool{n}d", [x], FIRST, kernel_size=tuple(x.info.shape[2:]))
            return pooled if keep else b.add("Flatten", [pooled], LAST)
        return emit
    return read


# ---------------------------------------------------------------------------- normalisation

def _batch_norm(args: Args) -> Emit:
    axis = args.whole("axis", -1, minimum=-8)
    momentum = args.number("momentum", 0.99)
    epsilon = args.number("epsilon", 1e-3)
    affine = _affine(args)
    args.findings.note(args.line, "Keras counts BatchNormalization's moving mean and variance "
                       "among its parameters; NeuralCanvas counts the learned scale and shift")

    def emit(b: Builder, xs: list[Tensor]) -> Tensor:
        x = xs[0]
        if axis not in (-1, x.rank - 1):
            raise ShapeError(f"axis={axis} is not read: BatchNormalization is read over the "
                             "channels (axis=-1)")
        layer = {2: "BatchNorm1d", 3: "BatchNorm1d", 4: "BatchNorm2d", 5: "BatchNorm3d"}.get(
            x.rank, "BatchNorm1d")
        if x.rank > 2:
            x = b.arrange(x, FIRST)
        # Keras keeps this much of the old running average; torch takes this much of the new
        return b.add(layer, [x], eps=epsilon, momentum=round(1 - momentum, 9), affine=affine)
    return emit


def _layer_norm(args: Args) -> Emit:
    args.expect("axis", (-1,), " (the last axis)")
    epsilon = args.number("epsilon", 1e-3)
    affine = _affine(args)
    return lambda b, xs: b.add("LayerNorm", [b.arrange(xs[0], LAST)], eps=epsilon,
                               elementwise_affine=affine)


def _affine(args: Args) -> bool:
    center, scale = args.flag("center", True), args.flag("scale", True)
    if center != scale:
        args.problem("center and scale differ; NeuralCanvas learns both or neither")
    return center


def _dropout(args: Args) -> Emit:
    rate = args.number("rate", 0.5)
    args.expect("noise_shape", (None,))
    return lambda b, xs: b.add("Dropout", [xs[0]], p=rate)


# ---------------------------------------------------------------------------- recurrent

def _recurrent(kind: str, bidirectional: bool = False) -> Reader:
    layer = _RECURRENT[kind]

    def read(args: Args) -> Emit:
        units = args.whole("units")
        nonlinearity = args.expect("activation", ("tanh", "relu") if kind == "SimpleRNN"
                                   else ("tanh",))
        if kind != "SimpleRNN":
            args.expect("recurrent_activation", ("sigmoid",))
        if kind == "GRU":
            args.expect("reset_after", (True,), ": PyTorch's GRU resets after the product")
        args.expect("use_bias", (True,))
        sequences = args.flag("return_sequences", False)
        for name in ("return_state", "go_backwards", "stateful", "time_major"):
            args.expect(name, (False,))
        if any([args.number("dropout", 0.0), args.number("recurrent_dropout", 0.0)]):
            args.findings.note(args.line, "dropout inside a recurrent layer is not carried "
                               "over; add a Dropout layer after it instead")
        if kind != "GRU":
            args.findings.note(args.line, f"PyTorch's {layer} learns two bias vectors where "
                               f"Keras's {kind} learns one, so it counts {_GATES[kind]} x units "
                               "more parameters than Keras")
        options = {"nonlinearity": nonlinearity} if kind == "SimpleRNN" else {}

        def emit(b: Builder, xs: list[Tensor]) -> Tensor:
            return b.add(layer, [b.arrange(xs[0], LAST)], LAST, hidden_size=units,
                         bidirectional=bidirectional,
                         output="sequence" if sequences else "last", **options)
        return emit
    return read


def _bidirectional(args: Args) -> Emit:
    inner = args.take("layer")
    args.expect("merge_mode", ("concat",))
    args.expect("backward_layer", (None,))
    if isinstance(inner, CallValue) and inner.name in _RECURRENT:
        return _nested(args, inner, _recurrent(inner.name, bidirectional=True),
                       SIGNATURES[inner.name])
    args.problem(f"Bidirectional wraps {getattr(inner, 'text', inner)!r}; only SimpleRNN, "
                 "LSTM and GRU are read")
    return _unused


# ---------------------------------------------------------------------------- shapes

def _flatten(args: Args) -> Emit:
    args.expect("data_format", (None, "channels_last"))
    return lambda b, xs: b.add("Flatten", [xs[0]], LAST)


def _reshape(args: Args) -> Emit:
    target = args.take("target_shape")
    if not (isinstance(target, (tuple, list)) and all(isinstance(s, int) for s in target)):
        args.problem(f"target_shape={target!r} is not a tuple of sizes")

    def emit(b: Builder, xs: list[Tensor]) -> Tensor:
        x = xs[0]
        if x.rank == 2:   # a flat tensor: the new axes may take either order
            return b.source(b.index, "Reshape", tuple(target), inputs=(x,))
        return b.add("Reshape", [b.arrange(x, LAST)], LAST, shape=tuple(target))
    return emit


def _permute(args: Args) -> Emit:
    dims = args.take("dims")
    return lambda b, xs: b.add("Permute", [b.arrange(xs[0], LAST)], LAST, dims=(0, *dims))


def _upsampling(n: int) -> Reader:
    def read(args: Args) -> Emit:
        size = args.size("size", n, 2)
        if isinstance(size, tuple):
            args.problem(f"size={size!r} differs between axes; NeuralCanvas scales all alike")
        args.expect("data_format", (None, "channels_last"))
        mode = args.expect("interpolation", ("nearest", "bilinear")) if n == 2 else "nearest"
        return lambda b, xs: b.add("Upsample", [b.arrange(xs[0], FIRST)], FIRST,
                                   scale_factor=float(size), mode=mode)
    return read


# ---------------------------------------------------------------------------- merging

def _concatenate(args: Args) -> Emit:
    axis = args.whole("axis", -1, minimum=-8)

    def emit(b: Builder, xs: list[Tensor]) -> Tensor:
        xs = b.same_layout(xs)
        return b.add("Concat", xs, dim=b.axis(xs[0], axis))
    return emit


def _elementwise(layer: str) -> Reader:
    return lambda args: lambda b, xs: b.add(layer, b.same_layout(xs))


def _preprocessing(args: Args) -> Emit:
    args.drop_all()
    args.findings.note(args.line, f"{args.layer.name} is left out: the data settings scale "
                       "and augment the data here (data.normalize, data.flip, data.rotate)")
    return lambda b, xs: xs[0]


# ---------------------------------------------------------------------------- the table

def _nested(outer: Args, inner: CallValue, reader: Reader, positional: tuple[str, ...]) -> Emit:
    """Read a wrapped layer's own arguments (reported against its own line)."""
    args = Args(inner, positional, outer.findings)
    emit = reader(args)
    args.finish()
    return emit


def _unused(b: Builder, xs: list[Tensor]) -> Tensor:
    raise AssertionError("a layer with problems is never emitted")


SIGNATURES: dict[str, tuple[str, ...]] = {
    "Dense": ("units", "activation", "use_bias"),
    "Activation": ("activation",), "ReLU": ("max_value", "negative_slope", "threshold"),
    "LeakyReLU": ("negative_slope",), "ELU": ("alpha",), "Softmax": ("axis",),
    "Embedding": ("input_dim", "output_dim"), "TimeDistributed": ("layer",),
    "Conv2DTranspose": ("filters", "kernel_size", "strides", "padding", "output_padding",
                        "data_format", "dilation_rate", "activation", "use_bias"),
    "BatchNormalization": ("axis", "momentum", "epsilon", "center", "scale"),
    "LayerNormalization": ("axis", "epsilon", "center", "scale"),
    "Dropout": ("rate", "noise_shape", "seed"),
    "SimpleRNN": ("units", "activation"), "LSTM": ("units", "activation"),
    "GRU": ("units", "activation"), "Bidirectional": ("layer", "merge_mode"),
    "Flatten": ("data_format",), "Reshape": ("target_shape",), "Permute": ("dims",),
    "Concatenate": ("axis",), "Add": (), "Multiply": (),
}
READERS: dict[str, Reader] = {
    "Dense": _dense, "Activation": _activation_layer, "ReLU": _relu,
    "LeakyReLU": _leaky_relu, "ELU": _elu, "Softmax": _softmax, "Embedding": _embedding,
    "TimeDistributed": _time_distributed, "Conv2DTranspose": _conv_transpose,
    "BatchNormalization": _batch_norm, "LayerNormalization": _layer_norm, "Dropout": _dropout,
    "Bidirectional": _bidirectional, "Flatten": _flatten, "Reshape": _reshape,
    "Permute": _permute, "Concatenate": _concatenate, "Add": _elementwise("Add"),
    "Multiply": _elementwise("Multiply"),
    **{kind: _recurrent(kind) for kind in _RECURRENT},
    **{name: _preprocessing for name in PREPROCESSING},
}
for _n in (1, 2, 3):
    SIGNATURES[f"Conv{_n}D"] = ("filters", "kernel_size", "strides", "padding", "data_format",
                                "dilation_rate", "groups", "activation", "use_bias")
    READERS[f"Conv{_n}D"] = _convolution(_n)
    for _kind, _keras in (("Max", "MaxPooling"), ("Avg", "AveragePooling")):
        SIGNATURES[f"{_keras}{_n}D"] = ("pool_size", "strides", "padding", "data_format")
        READERS[f"{_keras}{_n}D"] = _pooling(_kind, _n)
    for _kind in ("Average", "Max"):
        SIGNATURES[f"Global{_kind}Pooling{_n}D"] = ("data_format", "keepdims")
        READERS[f"Global{_kind}Pooling{_n}D"] = _global_pooling(_kind, _n)
for _n in (1, 2):
    SIGNATURES[f"UpSampling{_n}D"] = ("size", "data_format", "interpolation")
    READERS[f"UpSampling{_n}D"] = _upsampling(_n)


def read_layer(layer: CallValue, findings: Findings) -> Emit | None:
    """The emitter for one layer call, or None (and a problem) for a layer not read."""
    args = Args(layer, SIGNATURES.get(layer.name, ()), findings)
    reader = READERS.get(layer.name)
    if reader is None:
        args.problem(f"{layer.path} {NOT_READ}")
        args.drop_all()
        return None
    emit = reader(args)
    args.finish()
    return emit


def layers_read() -> str:
    """The Keras layers this import reads, for a refusal that met others."""
    return f"Keras layers read: {', '.join(sorted(READERS))}"


def output_shape_note(tensor: Tensor) -> str | None:
    """Where an output's order differs from Keras's, say so."""
    if tensor.layout == FIRST and tensor.rank > 2:
        return (f"the output is channels first, {tensor.info.shape}, where Keras gives "
                f"{keras_shape(tensor)}")
    return None
