"""Recurrent layers over batch-first sequences (N, length, features)."""

from engine.layers.base import EmitContext, LayerSpec, Param, TensorInfo, expect_rank
from engine.layers.module_call import ModuleCall, module_call
from engine.layers.registry import register

_GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
MOST_STACKED_LAYERS = 100  # deep recurrent stacks stop learning long before this


def _params(kind: str) -> tuple[Param, ...]:
    params = (
        Param("hidden_size", "int", 64, "size of the hidden state", minimum=1),
        Param("num_layers", "int", 1, "stacked recurrent layers", minimum=1,
              maximum=MOST_STACKED_LAYERS),
        Param("bidirectional", "bool", False, "also read the sequence backwards"),
        Param("dropout", "float", 0.0, "dropout between stacked layers", minimum=0, maximum=1),
        Param("output", "choice", "last", "return the last step's hidden state, or the "
              "output at every step", choices=("last", "sequence")),
    )
    if kind == "RNN":
        params += (Param("nonlinearity", "choice", "tanh", "activation",
                         choices=("tanh", "relu")),)
    return params


def _shape(kind: str):
    def infer(inputs: list[TensorInfo], p: dict) -> TensorInfo:
        x = inputs[0]
        expect_rank(x, (3,), kind, "(N, length, features), batch first",
                    "put an Embedding before it for token ids, or a Reshape to add the "
                    "length dimension")
        width = p["hidden_size"] * (2 if p["bidirectional"] else 1)
        if p["output"] == "last":
            return TensorInfo((x.shape[0], width))
        return TensorInfo((x.shape[0], x.shape[1], width))
    return infer


def _count(kind: str):
    def count(inputs: list[TensorInfo], p: dict) -> int:
        """Each direction of a layer has gates x hidden x (its input + hidden + 2 biases);
        the first layer reads the features, the others the previous layer's output."""
        hidden, directions = p["hidden_size"], 2 if p["bidirectional"] else 1
        first = inputs[0].shape[-1] + hidden + 2
        others = (p["num_layers"] - 1) * (hidden * directions + hidden + 2)
        return directions * _GATES[kind] * hidden * (first + others)
    return count


def _constructor(kind: str):
    # torch's defaults, in the order of its parameters; an RNN also takes its nonlinearity
    defaults = {"num_layers": 1, "batch_first": False, "dropout": 0.0, "bidirectional": False,
                **({"nonlinearity": "tanh"} if kind == "RNN" else {})}

    def constructor(inputs: list[TensorInfo], p: dict) -> ModuleCall:
        values = {**p, "batch_first": True}
        return module_call(f"torch.nn.{kind}", inputs[0].shape[-1], p["hidden_size"],
                           defaults=defaults, **{key: values[key] for key in defaults})
    return constructor


def _emit(kind: str):
    def emit(ctx: EmitContext) -> list[str]:
        call = f"{ctx.module}({ctx.inputs[0]})"
        if ctx.params["output"] == "sequence":
            return [f"{ctx.out}, _ = {call}"]
        h_n = ctx.fresh("h_n")  # the final hidden state of each layer and direction
        state = f"({h_n}, _)" if kind == "LSTM" else h_n
        last = (f"torch.cat([{h_n}[-2], {h_n}[-1]], dim=1)" if ctx.params["bidirectional"]
                else f"{h_n}[-1]")
        return [f"_, {state} = {call}", f"{ctx.out} = {last}"]
    return emit


_TEXT = {
    "RNN": "The simplest recurrent layer: it reads a sequence step by step, mixing each input "
           "into a hidden state. It struggles to remember more than a few steps back; prefer "
           "LSTM or GRU for real tasks.",
    "LSTM": "A recurrent layer with gates that decide what to remember, forget and output, so "
            "it can carry information across long sequences. The standard choice for time "
            "series and text; 'last' gives one vector per sequence for classification or "
            "forecasting, 'sequence' an output per step.",
    "GRU": "A lighter LSTM: two gates (reset and update) instead of three and no separate "
           "cell state, so fewer parameters and faster steps with similar accuracy on most "
           "tasks. Good for character-level text models; hidden_size 64-512 is typical.",
}

for _kind in ("RNN", "LSTM", "GRU"):
    register(LayerSpec(name=_kind, category="Recurrent", explanation=_TEXT[_kind],
                       params=_params(_kind), infer=_shape(_kind), count_params=_count(_kind),
                       constructor=_constructor(_kind), emit=_emit(_kind)))
