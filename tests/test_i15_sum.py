"""Sum (torch.sum over dimensions other than the batch) as a layer: its shape rule, the code
it emits, and the importer turning `x.sum(dim=...)` into it, exactly, as MobileViT-v2's
separable attention uses it."""

import pytest
import torch
from model_matrix import Case, round_trip
from torch import nn

from engine import Design
from engine.checking import check
from engine.errors import DesignError
from engine.importing import import_network


class WeighedTotal(nn.Module):
    """Scores per token, softmax over the tokens, then the weighted total (MobileViT-v2)."""

    def __init__(self) -> None:
        super().__init__()
        self.score = nn.Conv2d(8, 1, 1)
        self.value = nn.Conv2d(8, 8, 1)

    def forward(self, x):
        weights = self.score(x).softmax(dim=-1)
        return (self.value(x) * weights).sum(dim=-1, keepdim=True)


def test_a_weighted_total_imports_and_round_trips_exactly(tmp_path):
    case = Case("hand", "weighed-total", WeighedTotal, lambda batch: (torch.randn(batch, 8, 4, 6),))
    assert round_trip(case, tmp_path).status == "exact"
    design = import_network(WeighedTotal(), (torch.randn(2, 8, 4, 6),)).design
    sums = [n for n in design.nodes() if design.node(n).type == "Sum"]
    assert len(sums) == 1 and design.node(sums[0]).params["keepdim"] is True


def _summed(dims, keepdim=False, shape=(8, 4, 6)):
    design = Design()
    x = design.add("Input", shape=shape)
    total = design.add("Sum", x, dims=dims, keepdim=keepdim)
    design.add("Output", total)
    return design, check(design)


@pytest.mark.parametrize("dims, keepdim, expected", [
    ((2, 3), False, ("N", 8)), ((-1,), True, ("N", 8, 4, 1)), ((1,), False, ("N", 4, 6))])
def test_sum_removes_or_keeps_the_summed_dimensions(dims, keepdim, expected):
    design, report = _summed(dims, keepdim)
    [total] = [n for n in design.nodes() if design.node(n).type == "Sum"]
    assert report.ok and report.shape(total) == expected


def test_summing_over_the_batch_is_refused_by_name():
    _, report = _summed((0, 2))
    assert not report.ok
    assert any("Sum must not sum over the batch dimension" in p.message for p in report.problems)


def test_summing_over_everything_is_refused_at_import():
    class Everything(nn.Module):
        def forward(self, x):
            return x.sum()

    with pytest.raises(DesignError, match="sums over every dimension"):
        import_network(Everything(), (torch.randn(2, 3),))


def test_an_onnx_reduce_sum_imports_as_sum_and_runs_like_onnxruntime(tmp_path):
    from test_i15_onnx_import import assert_runs_like_onnxruntime, layers, write_onnx

    path = write_onnx(WeighedTotal(), torch.randn(2, 8, 4, 6), tmp_path / "total.onnx")
    design = assert_runs_like_onnxruntime(path, (torch.randn(3, 8, 4, 6),), tmp_path)
    assert "Sum" in layers(design)
