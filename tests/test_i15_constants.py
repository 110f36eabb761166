"""Issue 15: tensors forward makes from numbers alone (position ids, relative position buckets,
masks built from positions and expanded to the batch) import as non-persistent Buffer nodes
that hold them, at any batch size and with no new state_dict key; attention masks that keep
every score are left out, the causal one becomes is_causal, any other is the attention's
mask input."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F
from test_codegen_helpers import single_thread
from test_i15_importer import assert_round_trip
from torch import nn

import engine
from engine.errors import DesignError, ShapeError
from engine.importing import import_network
from engine.layers import TensorInfo, get_layer

pytestmark = pytest.mark.usefixtures(single_thread.__name__)


def _buckets(length: int) -> torch.Tensor:
    """T5-like relative position buckets: a table of whole numbers no simpler init makes."""
    positions = torch.arange(length)
    relative = positions[None, :] - positions[:, None]
    return (relative > 0).long() * length + relative.abs().clamp(max=length // 2)


class PositionBias(nn.Module):
    """Position ids from arange, a bucket table into an Embedding permuted to (1, heads, T, T)
    and added to the scores, and a causal mask built by comparing positions."""

    def __init__(self, causal: bool) -> None:
        super().__init__()
        self.causal = causal
        self.tokens = nn.Embedding(10, 8)
        self.positions = nn.Embedding(6, 8)
        if not causal:
            self.bias = nn.Embedding(12, 2)

    def forward(self, ids):
        length = ids.size(1)
        x = self.tokens(ids) + self.positions(torch.arange(length).unsqueeze(0))
        q = x.view(ids.size(0), length, 2, 4).transpose(1, 2)
        if self.causal:
            steps = torch.arange(length)
            mask = (steps[None, :] <= steps[:, None]).expand(ids.size(0), 1, length, length)
        else:
            mask = self.bias(_buckets(length)).permute(2, 0, 1).unsqueeze(0)
        return F.scaled_dot_product_attention(q, q, q, attn_mask=mask)


def _exported_at_another_batch(design, code, original, tmp_path) -> None:
    built = engine.build_model(design).eval()
    built.load_state_dict(original.state_dict(), strict=True)
    ids = torch.randint(0, 10, (5, 6))
    with torch.no_grad():
        assert torch.equal(built(ids), original(ids))


def test_a_causal_mask_made_from_positions_becomes_is_causal(tmp_path):
    original = PositionBias(causal=True)
    design, code = assert_round_trip(original, (torch.randint(0, 10, (2, 6)),), tmp_path)
    assert "is_causal=True" in code and "attn_mask" not in code
    assert "torch.arange(6)" in code  # the position ids: a Buffer counting positions
    _exported_at_another_batch(design, code, original, tmp_path)


def test_a_bucket_table_is_held_entry_by_entry_and_biases_the_scores(tmp_path):
    original = PositionBias(causal=False)
    design, code = assert_round_trip(original, (torch.randint(0, 10, (2, 6)),), tmp_path)
    table = next(design.node(n) for n in design.nodes() if design.node(n).name == "indices_2")
    assert (table.params["init"], table.params["persistent"]) == ("values", False)
    assert table.params["values"] == tuple(_buckets(6).flatten().tolist())
    assert re.search(r"attn_mask=\w+", code)
    _exported_at_another_batch(design, code, original, tmp_path)


class KeepAll(nn.Module):
    """Hugging Face's merge of an all-True padding mask into a position bias (a buffer here:
    a mask that requires grad, as a Parameter does, sends the attention down another path)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("bias", torch.randn(1, 2, 4, 4))

    def forward(self, x):
        keep = torch.ones(x.size(0), 1, 4, 4, dtype=torch.bool)
        bias = torch.where(keep, self.bias, -1e9)
        q = x.view(x.size(0), 4, 2, 3).transpose(1, 2).to(torch.float32)
        return F.scaled_dot_product_attention(q, q, q, attn_mask=bias)


def test_a_mask_that_keeps_everything_and_a_cast_that_keeps_the_dtype_are_no_nodes(tmp_path):
    design, code = assert_round_trip(KeepAll(), (torch.randn(2, 4, 6),), tmp_path)
    types = {design.node(n).type for n in design.nodes()}
    assert types == {"Input", "Buffer", "Reshape", "Transpose", "ScaledDotProductAttention",
                     "Output"}
    assert "attn_mask=self.bias" in code


class Counted(nn.Module):
    """A constant that differs from sample to sample cannot be one Buffer."""

    def forward(self, x):
        return x + torch.arange(x.size(0)).unsqueeze(1).float()


def test_a_constant_whose_values_follow_the_batch_is_refused():
    with pytest.raises(DesignError, match="values change with the batch size"):
        import_network(Counted(), torch.randn(2, 3))


@pytest.mark.parametrize("mask, causal, words", [
    (TensorInfo((1, 1, 4, 4), "long"), False, "holds whole numbers"),
    (TensorInfo((1, 1, 4, 4), "bool"), True, "or is_causal, not both"),
    (TensorInfo((1, 1, 4, 5), "bool"), False, "broadcast"),
])
def test_an_attention_mask_that_does_not_fit_says_why(mask, causal, words):
    query = TensorInfo(("N", 2, 4, 8))
    spec = get_layer("ScaledDotProductAttention")
    with pytest.raises(ShapeError, match=words):
        spec.infer([query, query, query, mask], {**spec.defaults(), "is_causal": causal})


@pytest.mark.parametrize("params, words", [
    ({"dtype": "float", "values": (1, 2)}, "holds whole numbers"),
    ({"dtype": "long", "values": (1, 2, 3)}, "gives 3 numbers for the shape"),
    ({"dtype": "bool", "values": (0, 2)}, "must be 0 .False. or 1"),
])
def test_stored_values_that_do_not_fit_the_buffer_say_why(params, words):
    spec = get_layer("Buffer")
    with pytest.raises(ShapeError, match=words):
        spec.infer([], {**spec.defaults(), "shape": (2,), "init": "values", **params})
