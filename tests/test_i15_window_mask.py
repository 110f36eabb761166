"""Issue 15: Swin's attention mask for shifted windows. A Buffer node with init
'shifted_windows' makes it from its sizes (engine.training.portable.windows, copied into
exported scripts); the import recognises a non-persistent mask buffer by its values, so timm's
Swin imports exactly; a module given such a batchless tensor stays in its caller's scope (a
block's Inputs hold the batch)."""

from __future__ import annotations

import pytest
import timm.models.swin_transformer as swin
import torch
from model_matrix import Case, round_trip
from test_codegen_helpers import single_thread
from torch import nn

from engine import Design, check
from engine.codegen.export import generate_code
from engine.importing import import_network
from engine.importing.fixed_buffers import remaking_init
from engine.layers import get_layer
from engine.training.portable.windows import shifted_window_mask

pytestmark = pytest.mark.usefixtures(single_thread.__name__)


def _timm_mask(size: tuple[int, int], window: int, shift: int) -> torch.Tensor:
    block = swin.SwinTransformerBlock(dim=8, input_resolution=size, num_heads=2,
                                      window_size=window, shift_size=shift)
    return block.attn_mask


@pytest.mark.parametrize("size, window, shift", [((14, 14), 7, 3), ((8, 12), 4, 2),
                                                 ((6, 6), 3, 1)])
def test_the_mask_is_timms_for_any_map_window_and_shift(size, window, shift):
    made = shifted_window_mask(size, (window, window), (shift, shift))
    assert torch.equal(made, _timm_mask(size, window, shift))


def test_the_import_recognises_the_mask_by_its_values():
    mask = _timm_mask((8, 12), 4, 2)
    assert remaking_init(mask, "float") == {"init": "shifted_windows",
                                            "windows": (8, 12, 4, 4, 2, 2)}
    with pytest.raises(Exception, match="Swin's shifted windows"):
        remaking_init(mask * 2 + 1, "float")  # no init makes it: refused, never approximated


def _buffer_design(**params) -> Design:
    design = Design("mask")
    x = design.add("Input", shape=(4, 9, 9))
    mask = design.add("Buffer", name="attn_mask", **params)
    design.add("Output", design.add("Add", x, mask))
    return design


def test_the_buffer_init_checks_its_sizes_and_exports_the_portable_function():
    design = _buffer_design(shape=(4, 9, 9), init="shifted_windows", windows=(6, 6, 3, 3, 1, 1),
                            persistent=False)
    assert check(design).errors == []
    code = generate_code(design)
    assert "shifted_window_mask((6, 6), (3, 3), (1, 1))" in code
    assert "def shifted_window_mask(size, window, shift):" in code
    spec = get_layer("Buffer")
    for windows, words in [((6, 6, 3, 3, 1, 1), None), ((6, 6, 4, 4, 1, 1), "must tile"),
                           ((6, 6, 3, 3, 3, 1), "smaller than the window"),
                           ((12, 6, 3, 3, 1, 1), r"makes a mask of shape \(8, 9, 9\)")]:
        params = {**spec.defaults(), "shape": (4, 9, 9), "init": "shifted_windows",
                  "windows": windows}
        if words is None:
            spec.infer([], params)
        else:
            with pytest.raises(Exception, match=words):
                spec.infer([], params)


class Attention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(4, 4)

    def forward(self, x, mask):
        return self.qkv(x) + mask


class Masked(nn.Module):
    """A module that hands a batchless buffer to a submodule, as Swin's blocks hand their mask
    to their window attention."""

    def __init__(self) -> None:
        super().__init__()
        self.attention = Attention()
        self.register_buffer("mask", shifted_window_mask((4, 4), (2, 2), (1, 1)),
                             persistent=False)

    def forward(self, x):
        return self.attention(x, self.mask)


def test_a_call_given_a_tensor_without_the_batch_round_trips_exactly(tmp_path):
    case = Case("hand", "masked", Masked, lambda batch: (torch.randn(batch, 4, 4, 4),))
    assert round_trip(case, tmp_path).status == "exact"
    design = import_network(Masked().eval(), (torch.randn(2, 4, 4, 4),)).design
    assert not design.blocks  # the attention's scope opened into its caller's
