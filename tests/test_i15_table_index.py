"""Issue 15: a table read at the positions of an index tensor (`table[index]`, `table[:, idx]`,
as Swin, MaxViT and LeViT read their relative position biases) imports as a Take node fed by
the index's Buffer node (a non-persistent one remade by its init), and computes exactly what
the model does at any batch size; indexing the Take layer cannot express is refused."""

from __future__ import annotations

import pytest
import torch
from test_codegen_helpers import single_thread
from test_i15_importer import assert_round_trip
from torch import nn

import engine
from engine.errors import DesignError, ShapeError
from engine.importing import import_network
from engine.layers import TensorInfo, get_layer

pytestmark = pytest.mark.usefixtures(single_thread.__name__)
WINDOW = 3


def relative_position_index(size: int) -> torch.Tensor:
    """Swin's table of relative positions: (size*size, size*size) indices into the table."""
    coords = torch.stack(torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij"))
    flat = coords.flatten(1)
    relative = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0) + (size - 1)
    return relative[:, :, 0] * (2 * size - 1) + relative[:, :, 1]


class RelativeBias(nn.Module):
    """Swin's and MaxViT's bias: table[index.view(-1)].view(N, N, -1).permute(2, 0, 1)."""

    def __init__(self, persistent: bool) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.randn((2 * WINDOW - 1) ** 2, 2))
        self.register_buffer("index", relative_position_index(WINDOW), persistent=persistent)

    def forward(self, scores):
        area = WINDOW * WINDOW
        bias = self.table[self.index.view(-1)].view(area, area, -1).permute(2, 0, 1)
        return (scores + bias.contiguous().unsqueeze(0)).softmax(-1)


class HeadBiases(nn.Module):
    """LeViT's `attention_biases[:, attention_bias_idxs]`, and tokens picked from a batch."""

    def __init__(self) -> None:
        super().__init__()
        self.biases = nn.Parameter(torch.randn(2, 5))
        self.register_buffer("idxs", torch.randint(0, 5, (4, 4)), persistent=False)
        self.register_buffer("order", torch.tensor([3, 0, 2]))

    def forward(self, x):
        return x + self.biases[:, self.idxs], x[:, :, self.order]


def _same_at_another_batch(original: nn.Module, design, inputs: tuple) -> None:
    built = engine.build_model(design).eval()
    built.load_state_dict(original.state_dict(), strict=True)
    with torch.no_grad():
        got, want = built(*inputs), original(*inputs)
    for mine, theirs in zip(*(value if isinstance(value, tuple) else (value,)
                              for value in (got, want)), strict=True):
        assert torch.equal(mine, theirs)


@pytest.mark.parametrize("persistent", [True, False])
def test_a_bias_table_read_at_an_index_buffer_imports_exactly(persistent, tmp_path):
    original = RelativeBias(persistent).eval()
    area = WINDOW * WINDOW
    design, code = assert_round_trip(original, (torch.randn(2, 2, area, area),), tmp_path)
    take = next(n for n in design.nodes() if design.node(n).type == "Take")
    assert design.node(take).params["dim"] == 0 and "= self.table[" in code
    index = design.node(design.find("index"))
    assert index.params["persistent"] is persistent
    assert (index.params["init"] == "values") is not persistent
    _same_at_another_batch(original, design, (torch.randn(3, 2, area, area),))


def test_positions_along_a_later_dimension_take_along_it(tmp_path):
    original = HeadBiases().eval()
    design, code = assert_round_trip(original, (torch.randn(2, 2, 4, 4),), tmp_path)
    assert "[:, self.idxs]" in code and "[:, :, self.order]" in code
    _same_at_another_batch(original, design, (torch.randn(3, 2, 4, 4),))


class Masked(nn.Module):
    def forward(self, x):
        return x[:, x[0, :, 0] > 0]


class Mixed(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("order", torch.tensor([1, 0]))

    def forward(self, x):
        return x[:, 0, self.order]


@pytest.mark.parametrize("module, message", [
    (Masked(), "indexes by a tensor of torch.bool"),
    (Mixed(), "keeps every other dimension whole")])
def test_indexing_take_cannot_express_is_refused_saying_why(module, message):
    with pytest.raises(DesignError, match=message):
        import_network(module, (torch.randn(2, 3, 2),))


def test_the_take_rule_keeps_the_batch_first():
    take = get_layer("Take")
    table, index = TensorInfo((169, 3)), TensorInfo((49, 49), "long")
    assert take.infer([table, index], {"dim": 0}).shape == (49, 49, 3)
    assert take.infer([TensorInfo(("N", 5, 8)), TensorInfo((2,), "long")],
                      {"dim": -1}).shape == ("N", 5, 2)
    assert take.infer([table, TensorInfo(("N", 7), "long")], {"dim": 0}).shape == ("N", 7, 3)
    for inputs, dim, message in [
            ([TensorInfo(("N", 5)), TensorInfo(("N", 2), "long")], 1, "same positions"),
            ([TensorInfo(("N", 5)), TensorInfo((2,), "long")], 0, "batch dimension"),
            ([table, TensorInfo(("N", 7), "long")], 1, "must pick along dimension 0"),
            ([table, TensorInfo((4,))], 0, "whole-number positions")]:
        with pytest.raises(ShapeError, match=message):
            take.infer(inputs, {"dim": dim})
