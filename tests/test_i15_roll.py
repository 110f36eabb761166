"""Issue 15: torch.roll imports as the catalogue's Roll layer (Swin's shifted windows), its
dimensions where the design holds them; a roll of the flattened tensor (no dims), which moves
values between samples, is refused."""

import pytest
import torch
from model_matrix import Case, round_trip
from test_codegen_helpers import single_thread
from torch import nn

from engine.errors import DesignError
from engine.importing import import_network

pytestmark = pytest.mark.usefixtures(single_thread.__name__)


class Shifted(nn.Module):
    def forward(self, x):
        return torch.roll(x, shifts=(-2, 1), dims=(1, -1)) + x.roll(3, 2)


class Flattened(nn.Module):
    def forward(self, x):
        return torch.roll(x, 1)


def test_a_roll_imports_exactly_and_emits_torch_roll(tmp_path):
    case = Case("hand", "shifted", Shifted, lambda batch: (torch.randn(batch, 5, 6, 4),))
    assert round_trip(case, tmp_path).status == "exact"
    design = import_network(Shifted(), (torch.randn(2, 5, 6, 4),)).design
    rolls = sorted((design.node(n).params["shifts"], design.node(n).params["dims"])
                   for n in design.nodes() if design.node(n).type == "Roll")
    assert rolls == [((-2, 1), (1, -1)), ((3,), (2,))]


def test_a_roll_of_the_flattened_tensor_is_refused():
    with pytest.raises(DesignError, match="rolls the whole tensor flattened"):
        import_network(Flattened(), (torch.randn(2, 5),))
