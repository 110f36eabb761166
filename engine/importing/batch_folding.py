"""Tensors whose first dimension folds the batch with positions of each sample.

Models cut each sample into windows, patches or tokens and fold them into the batch to run
layers over them: Swin's `window_partition` views (B, H, W, C) as (B*nW, ws, ws, C), MobileViT
reshapes (B, C, H, W) to (B*C*nh, ph, nw, pw), LeViT's `x.flatten(0, 1)` and GPT-2's
`x.view(-1, x.size(-1))` run BatchNorm1d or addmm over (B*T, C). A reshape is row-major, so one
that merges the batch with the dimensions after it keeps each sample's values together: row i
belongs to sample i // k. The design holds such a tensor batch first with the fold as a
dimension of its own, (B*k, rest) as (N, k, rest): the reshape that folds is a per-sample
Reshape, the one that unfolds (`attn.view(-1, nW, heads, N, N)`) another, an operation on the
last dimensions (Linear, LayerNorm, softmax(-1), matmul) the node it is for any tensor, and an
operation with dimension arguments gets them shifted past the fold. The traces at batch sizes
B and B + 1 tell k: the first dimension is B*k, then (B+1)*k.

Whatever would compute something else on that layout (a convolution, pooling or BatchNorm that
takes dimension 1 for channels, anything along the folded dimension, an operation not listed
here) is refused with the fold named, never translated approximately. LeViT's BatchNorm1d over
(B*N, C) is a BatchNorm1d with its features last, which flattens the positions into rows as
the model does (a transpose to (N, C, k) would round differently).
"""

from __future__ import annotations

import operator
from typing import Any

from engine.importing.layers import Unsupported
from engine.importing.tracing import TensorMeta, contains_tensor, location

RESHAPES = ("view", "reshape", "squeeze", "unsqueeze", "view_as", "reshape_as", "flatten")
# Layers that work on the last dimensions and treat every one before them as the batch.
_TRAILING_LAYERS = frozenset({
    "Linear", "Embedding", "LayerNorm", "Dropout", "Identity", "ReLU", "GELU", "LeakyReLU",
    "ELU", "SiLU", "Sigmoid", "Tanh", "Softplus", "Mish", "ReLU6", "Hardswish", "Hardsigmoid"})
_SOFTMAXES = ("Softmax", "LogSoftmax")


class BatchFolds:
    """Which fx tensors fold the batch, and by how much (`fold`); the translator asks it where
    a dimension is in the design (`design_dim`) and what each sample's shape is there."""

    def __init__(self, translator: Any) -> None:
        self.t = translator
        self.folds: dict[Any, int] = {}
        self.following = _following_targets()

    # ------------------------------------------------------------------ layouts
    def fold(self, value: Any) -> int:
        """How many positions of each sample the value's batch dimension holds (1: none)."""
        return self.folds.get(value, 1)

    def sample_shape(self, value: Any) -> tuple[int, ...]:
        """The design's per-sample shape of a batch-first tensor: (k, rest) when folded."""
        rest = tuple(self.t.first[value].shape[1:])
        return (self.folds[value], *rest) if value in self.folds else rest

    def design_dim(self, value: Any, dim: int) -> int:
        """Where dimension `dim` of an fx tensor lies in its design node's output; 0 for the
        one holding the batch, along which every layer refuses to work. A negative dimension
        of a batch-first tensor stays negative: counted from the end, it is the same one."""
        if value not in self.folds and value not in self.t.batch_second:
            return dim
        rank = len(self.t.first[value].shape)
        batch_at = 1 if value in self.t.batch_second else 0
        resolved = dim % rank
        if resolved == batch_at:
            return 0
        if dim < 0 and batch_at == 0:
            return dim
        extra = 1 if value in self.folds else 0
        return 1 + extra + (resolved if resolved < batch_at else resolved - 1)

    def permutation(self, source: Any, dims: tuple[int, ...]) -> tuple[int, ...]:
        """A Permute's dims for the design, from those of a batch-first source (the batch
        first, where it stays; a folded source's fold right after it)."""
        if source not in self.folds:
            return dims
        return (0, 1, *(self.design_dim(source, dim) for dim in dims if dim != 0))

    def copies(self, node: Any, source: Any) -> bool:
        """Whether a reshape that folds or unfolds copied a strided tensor into contiguous
        memory (MobileViT's `reshape(B * P, N, -1)` after a transpose). The design's reshape
        keeps the fold as a dimension and may only view the same memory, and layers after it
        round differently over strided memory: a Contiguous node copies as the original did."""
        if node not in self.folds and source not in self.folds:
            return False
        return not self.t.first[source].contiguous and self.t.first[node].contiguous

    def fits(self, node: Any) -> bool:
        """Whether `node` folds the batch and its traced shapes agree with its fold."""
        fold = self.folds.get(node)
        first, second = self.t.first.get(node), self.t.second.get(node)
        if fold is None or not (isinstance(first, TensorMeta) and isinstance(second, TensorMeta)):
            return False
        at = 1 if node in self.t.batch_second else 0
        batch = self.t.batch
        return (first.shape[at], second.shape[at]) == (batch * fold, (batch + 1) * fold) and \
            first.shape[:at] + first.shape[at + 1:] == second.shape[:at] + second.shape[at + 1:]

    # ------------------------------------------------------------------ following
    def follow(self, node: Any) -> None:
        """Record the fold of an operation's result before it is translated: a reshape's is
        read from its traced shapes, any other operation's is that of its folded inputs. One
        that cannot keep the fold (unknown, or mixing folds) is refused."""
        if node.op == "output":
            self._check_returned(node)
            return
        if node.op not in ("call_function", "call_method", "call_module") or \
                not contains_tensor(self.t.first[node]):
            return
        if self._reshapes(node):
            fold = self._traced_fold(node)
            if fold > 1:
                self.folds[node] = fold
            return
        folded = [value for value in node.all_input_nodes if value in self.folds]
        if not folded:
            return
        folds = {self.folds[value] for value in folded}
        plain = [value for value in node.all_input_nodes if self.t._batched(value)]
        if len(folds) > 1 or plain:
            raise Unsupported(f"combines tensors whose first dimensions fold the batch "
                              f"differently ({self._describe_all([*folded, *plain])})")
        if node.op == "call_module":
            self._check_layer(node, folded[0])
        elif node.target not in self.following:
            raise Unsupported(f"works on {self._describe(folded[0])}; NeuralCanvas follows "
                              "such a tensor only through reshapes, transposes, permutes, "
                              "indexing, element-wise arithmetic, matmul, reductions and "
                              "layers that work on its last dimensions")
        self.folds[node] = folds.pop()

    def _check_returned(self, node: Any) -> None:
        """A model's outputs hold one sample per row of their first dimension."""
        folded = [value for value in node.all_input_nodes if value in self.folds]
        if folded:
            raise Unsupported(f"does not keep the batch as the first dimension of what it "
                              f"returns: {self._describe(folded[0])}{location(folded[0])}")

    def _reshapes(self, node: Any) -> bool:
        name = node.target if isinstance(node.target, str) else getattr(
            node.target, "__name__", None)
        return node.op != "call_module" and name in RESHAPES and bool(node.args) and \
            (self.t._batched(node.args[0]) or node.args[0] in self.folds)

    def _traced_fold(self, node: Any) -> int:
        """k when the result's first dimension is B*k at batch B and (B+1)*k at B + 1, the
        rest the same; 0 when it is not."""
        first, second = self.t.first[node], self.t.second[node]
        if not (isinstance(first, TensorMeta) and isinstance(second, TensorMeta)) or \
                not first.shape or first.shape[1:] != second.shape[1:]:
            return 0
        fold = second.shape[0] - first.shape[0]
        return fold if fold >= 1 and first.shape[0] == self.t.batch * fold else 0

    # ------------------------------------------------------------------ layers
    def _check_layer(self, node: Any, source: Any) -> None:
        """Refuse a module call over a folded tensor unless its layer works on the last
        dimensions: any other (a convolution, pooling or BatchNorm taking dimension 1 for
        channels) would compute something else over the design's (N, k, ...)."""
        layer = self.t.folded[node][0] if node in self.t.folded else type(
            self.t.root.get_submodule(node.target)).__name__
        if layer == "BatchNorm1d" and len(self.t.first[source].shape) == 2:
            return  # over (B*k, features): the features are last (settings_for)
        if layer not in _TRAILING_LAYERS and layer not in _SOFTMAXES:
            raise Unsupported(
                f"applies {layer} to {self._describe(source)}; the {layer} layer would take "
                "that fold for a dimension of each sample and compute something else. Only "
                "layers that work on the last dimensions (Linear, LayerNorm, activations, "
                "Softmax, Dropout) follow such a tensor")

    def settings_for(self, source: Any, module: Any) -> dict[str, Any]:
        """Settings a layer takes from the layout of its folded input: a BatchNorm1d over
        (B*k, features) has its features last, each position one more row."""
        if source in self.folds and type(module).__name__ == "BatchNorm1d":
            return {"features": "last"}
        return {}

    def produce_layer(self, node: Any, layer: str, source: Any, params: dict[str, Any]) -> None:
        """Add the layer a module call or function stands for, a softmax's dimension shifted
        past a fold (`follow` let only layers that work on the last dimensions through)."""
        if layer in _SOFTMAXES:
            params = {**params, "dim": self.design_dim(source, params["dim"])}
        self.t._produce(node, layer, [self.t._tensor(source)], **params)

    # ------------------------------------------------------------------ messages
    def _describe(self, value: Any) -> str:
        shape = self.t.first[value].shape
        return (f"a tensor whose first dimension folds the batch with {self.folds[value]} "
                f"positions of each sample ({shape} for a batch of {self.t.batch}, from "
                f"{self.t.describe(value)})")

    def _describe_all(self, values: list[Any]) -> str:
        return "; ".join(f"{self.t.describe(value)} gives {self.t.first[value].shape}"
                         for value in values)


def _following_targets() -> frozenset[Any]:
    """The functions and methods whose translation maps dimensions through `design_dim` or
    touches only the last ones, so they may take folded tensors."""
    import torch
    import torch.nn.functional as F

    elementwise = ("add", "sub", "mul", "div", "pow", "exp", "log", "sqrt", "rsqrt", "abs",
                   "neg", "relu", "sigmoid", "tanh", "eq", "ne", "lt", "le", "gt", "ge",
                   "matmul", "bmm", "masked_fill", "transpose", "swapaxes", "permute", "mean",
                   "sum", "chunk", "split", "unbind", "gather", "roll", "softmax",
                   "log_softmax", "cat", "concat", "concatenate", "addmm")
    methods = {*elementwise, *(f"{name}_" for name in elementwise), "contiguous",
               *RESHAPES}
    functions = {getattr(torch, name) for name in (*elementwise, "reshape", "flatten",
                                                   "squeeze", "unsqueeze")
                 if hasattr(torch, name)}
    functional = {F.relu, F.relu6, F.gelu, F.silu, F.sigmoid, F.tanh, F.hardswish,
                  F.hardsigmoid, F.leaky_relu, F.elu, F.dropout, F.softmax, F.log_softmax,
                  F.scaled_dot_product_attention}
    operators = {operator.add, operator.iadd, operator.mul, operator.imul, operator.sub,
                 operator.isub, operator.truediv, operator.itruediv, operator.pow,
                 operator.neg, operator.matmul, operator.getitem, operator.eq, operator.ne,
                 operator.lt, operator.le, operator.gt, operator.ge}
    return frozenset({*methods, *functions, *functional, *operators})
