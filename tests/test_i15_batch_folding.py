"""Issue 15: tensors that fold the batch with windows, patches or tokens (B*k, ...) import as
batch-first design tensors with the fold as a dimension (N, k, ...): Swin's window partition
and reverse, MobileViT's patches, GPT-2's Conv1D (addmm over
`x.view(-1, C)`). Each round-trips exactly at another batch size; what the fold would make
wrong is refused, naming it."""

from __future__ import annotations

import pytest
import torch
from model_matrix import Case, round_trip
from test_codegen_helpers import single_thread
from torch import nn

from engine.codegen.export import generate_code
from engine.errors import DesignError
from engine.importing import import_network

pytestmark = pytest.mark.usefixtures(single_thread.__name__)


class Windows(nn.Module):
    """Swin's shifted-window attention on (B, H, W, C): roll, cut into windows folded into the
    batch, attention over each window's tokens, the windows put back, roll back."""

    def __init__(self, size: int = 4, channels: int = 8, heads: int = 2) -> None:
        super().__init__()
        self.size, self.heads = size, heads
        self.norm = nn.LayerNorm(channels)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.proj = nn.Linear(channels, channels)

    def forward(self, x):
        B, H, W, C = x.shape
        s = self.size
        x = torch.roll(self.norm(x), shifts=(-1, -1), dims=(1, 2))
        windows = x.view(B, H // s, s, W // s, s, C).permute(0, 1, 3, 2, 4, 5)
        windows = windows.contiguous().view(-1, s * s, C)  # (B*nW, N, C)
        B_, N, _ = windows.shape
        qkv = self.qkv(windows).reshape(B_, N, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q * 0.5) @ k.transpose(-2, -1)
        attn = attn.view(-1, (H // s) * (W // s), self.heads, N, N)  # unfolded per window
        attn = attn.view(-1, self.heads, N, N).softmax(dim=-1)
        out = self.proj((attn @ v).transpose(1, 2).reshape(B_, N, -1))
        out = out.view(-1, H // s, W // s, s, s, C).permute(0, 1, 3, 2, 4, 5)
        return torch.roll(out.reshape(B, H, W, C), shifts=(1, 1), dims=(1, 2))


class Conv1D(nn.Module):
    """Hugging Face GPT-2's Conv1D: a Linear with its weight transposed, run by addmm over the
    tokens folded into the batch."""

    def __init__(self, nf: int = 12, nx: int = 8) -> None:
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.randn(nx, nf))
        self.bias = nn.Parameter(torch.randn(nf))

    def forward(self, x):
        size_out = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


class TokenNorm(nn.Module):
    """LeViT's LinearNorm: BatchNorm1d over the tokens folded into the batch."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(8, 6)
        self.bn = nn.BatchNorm1d(6)

    def forward(self, x):
        x = self.linear(x)
        return self.bn(x.flatten(0, 1)).reshape_as(x)


class Patches(nn.Module):
    """MobileViT's unfolding: each channel's 2x2 patches, their positions folded into the
    batch; the last reshape copies a transposed tensor into contiguous memory."""

    def __init__(self) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(4)
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        B, C, H, W = x.shape
        x = x.reshape(B * C * 2, 2, 2, 2).transpose(1, 2)
        x = x.reshape(B, C, 4, 4).transpose(1, 3).reshape(B * 4, 4, -1)
        return self.fc(self.norm(x)).reshape(B, -1)


def _case(module: type[nn.Module], *sizes: int) -> Case:
    return Case("hand", module.__name__, module, lambda batch: (torch.randn(batch, *sizes),))


@pytest.mark.parametrize("case", [_case(Windows, 8, 8, 8), _case(Conv1D, 5, 8),
                                  _case(Patches, 4, 4, 4), _case(TokenNorm, 5, 8)],
                         ids=lambda case: case.name)
def test_folded_windows_and_tokens_round_trip_exactly_at_another_batch(case, tmp_path):
    assert round_trip(case, tmp_path).status == "exact"


def test_the_fold_is_a_dimension_of_each_sample_in_the_design():
    design = import_network(Windows(), (torch.randn(2, 8, 8, 8),)).design
    reshapes = [design.node(n).params["shape"] for n in design.nodes()
                if design.node(n).type == "Reshape"]
    assert (4, 16, 8) in reshapes  # (B*4 windows, 16 tokens, 8 channels) as (N, 4, 16, 8)
    rolls = [design.node(n).params for n in design.nodes() if design.node(n).type == "Roll"]
    assert [roll["dims"] for roll in rolls] == [(1, 2), (1, 2)]


def test_a_reshape_that_copied_a_strided_tensor_is_followed_by_contiguous():
    design = import_network(Patches(), (torch.randn(2, 4, 4, 4),)).design
    contiguous = [n for n in design.nodes() if design.node(n).type == "Contiguous"]
    assert len(contiguous) == 2  # both reshapes after a transpose copied
    norm = next(n for n in design.nodes() if design.node(n).type == "LayerNorm")
    assert design.inputs_of(norm)[0].src in contiguous  # the fold itself is only a view
    assert ".contiguous()" in generate_code(design)


def test_batchnorm_over_tokens_folded_into_the_batch_has_its_features_last():
    design = import_network(TokenNorm(), (torch.randn(2, 5, 8),)).design
    norm = next(design.node(n) for n in design.nodes() if design.node(n).type == "BatchNorm1d")
    assert norm.params["features"] == "last"
    assert ".flatten(0, -2)).reshape_as(" in generate_code(design)


def test_conv1d_becomes_matmul_and_add_over_its_own_weights():
    design = import_network(Conv1D(), (torch.randn(2, 5, 8),)).design
    types = sorted(design.node(n).type for n in design.nodes())
    assert types == ["Add", "Input", "MatMul", "Output", "Parameter", "Parameter"]


class ConvOverPatches(nn.Module):
    """A convolution over patches folded into the batch: dimension 1 of (B*k, C, h, w)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 1)

    def forward(self, x):
        B, C, H, W = x.shape
        return self.conv(x.reshape(B * 2, C // 2, H, W)).reshape(B, C, H, W)


class MeanOverWindows(nn.Module):
    def forward(self, x):
        return x.reshape(-1, 3).mean(0, keepdim=True)


@pytest.mark.parametrize("module, example, words", [
    (ConvOverPatches, (2, 4, 3, 3), r"applies Conv2d to a tensor whose first dimension folds "
                                    r"the batch with 2 positions"),
    (MeanOverWindows, (2, 6), r"Tensor.mean: does not keep the batch as the first dimension"),
])
def test_what_the_fold_would_make_wrong_is_refused(module, example, words):
    with pytest.raises(DesignError, match=words):
        import_network(module(), (torch.randn(*example),))
