"""Issue 15: torch.einsum imports as an Einsum node with the model's own equation (MaxViT's
attention), computes exactly what the model does at any batch size and exports to ONNX;
equations that would move the batch, or use '...', are refused saying why, and the layer's
shape rule checks every letter."""

from __future__ import annotations

import pytest
import torch
from test_codegen_helpers import single_thread
from test_i15_importer import assert_round_trip
from torch import nn

import engine
from engine.errors import DesignError, ShapeError
from engine.export_onnx import export_onnx, missing_packages
from engine.importing import import_network
from engine.layers import TensorInfo, get_layer

pytestmark = pytest.mark.usefixtures(single_thread.__name__)


class Attention(nn.Module):
    """MaxViT's scores and weighted values, and a product with a weight without a batch."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(3, 4))

    def forward(self, q):
        k = q * 0.5
        scores = torch.einsum("B G H I D, B G H J D -> B G H I J", q, k).softmax(-1)
        out = torch.einsum("B G H I J, B G H J D -> B G H I D", scores, k)
        return torch.einsum("bghid,ed", out, self.weight)


def _inputs(batch: int) -> tuple[torch.Tensor]:
    return (torch.randn(batch, 2, 2, 5, 4),)


def test_einsum_imports_exactly_with_its_equations_as_written(tmp_path):
    original = Attention().eval()
    design, code = assert_round_trip(original, _inputs(2), tmp_path)
    equations = sorted(design.node(n).params["equation"] for n in design.nodes()
                       if design.node(n).type == "Einsum")
    assert equations == ["B G H I D, B G H J D -> B G H I J",
                         "B G H I J, B G H J D -> B G H I D", "bghid,ed->beghi"]
    assert 'torch.einsum("B G H I D, B G H J D -> B G H I J", q, mul)' in code
    built = engine.build_model(design).eval()
    built.load_state_dict(original.state_dict(), strict=True)
    again = _inputs(3)
    with torch.no_grad():
        assert torch.equal(built(*again), original(*again))


@pytest.mark.skipif(bool(missing_packages()), reason="needs the onnx extra")
def test_einsum_exports_to_onnx(tmp_path):
    design, _ = assert_round_trip(Attention().eval(), _inputs(2), tmp_path)
    assert export_onnx(design, tmp_path / "einsum.onnx").max_difference < 1e-4


class MovesTheBatch(nn.Module):
    def forward(self, x):
        return torch.einsum("ni->in", x)


class Ellipsis_(nn.Module):
    def forward(self, x):
        return torch.einsum("...i,...i->...", x, x)


@pytest.mark.parametrize("module, message", [
    (MovesTheBatch(), "must start with the batch letter 'n'"),
    (Ellipsis_(), "uses '...' in its equation")])
def test_equations_the_layer_cannot_hold_are_refused_saying_why(module, message):
    with pytest.raises(DesignError, match=message):
        import_network(module, (torch.randn(2, 3),))


@pytest.mark.parametrize("equation, shapes, message", [
    ("nij,nkj->nik", [("N", 4, 12), ("N", 5, 11)], "letter 'j' labels dimensions of different"),
    ("nij->nik", [("N", 4, 12)], "letter 'k' labels no input dimension"),
    ("nij->nii", [("N", 4, 4)], "names letter 'i' twice"),
    ("ni,nj->nij", [("N", 4)], "names 2 inputs"),
    ("nij->ni", [("N", 4)], "has 2 dimensions but the equation gives it 3 letters"),
    ("ni,mj->nij", [("N", 4), ("N", 3)], "the batch of input 1 is letter 'm'"),
    ("ni,in->ni", [("N", 4), (4, 3)], "labels a dimension of input 1")])
def test_the_shape_rule_checks_every_letter(equation, shapes, message):
    with pytest.raises(ShapeError, match=message):
        get_layer("Einsum").infer([TensorInfo(shape) for shape in shapes],
                                  {"equation": equation})


def test_an_equation_is_letters_commas_and_an_arrow():
    param = get_layer("Einsum").param_index["equation"]
    assert param.problem("nij, nkj -> nik") is None
    for text in ('ni->n", x); import os; ("', "ni", "n1->n"):
        assert param.problem(text) is not None
    assert get_layer("Einsum").infer([TensorInfo(("N", 4)), TensorInfo((4,))],
                                     {"equation": "ni,i->n"}).shape == ("N",)
