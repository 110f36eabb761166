"""Issue 15, the matrix's refusal causes as small modules: each imports exactly (built and
exported models take the original's state_dict strictly and compute the same tensors)."""

from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from test_codegen_helpers import single_thread
from test_i15_importer import assert_round_trip
from torch import nn

from engine.errors import DesignError
from engine.importing import import_network
from engine.importing.refusal import Refusal, grouped

pytestmark = pytest.mark.usefixtures(single_thread.__name__)


def _layers(design, network="model"):
    return [design.node(node).type for node in design.nodes(network)]


class ClassToken(nn.Module):
    """A Vision Transformer's class token, repeated for every sample of the batch."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(4, 8)
        self.class_token = nn.Parameter(torch.randn(1, 1, 8))
        self.scale = nn.Parameter(torch.randn(1, 5, 1))

    def forward(self, x):
        x = self.proj(x)
        n = x.shape[0]
        tokens = torch.cat([self.class_token.expand(n, -1, -1), x], dim=1)
        return tokens * self.scale.expand_as(tokens), x.expand(x.size(0), 4, 8)


def test_expand_to_the_batch_of_another_tensor_imports_exactly(tmp_path):
    torch.manual_seed(0)
    design, code = assert_round_trip(ClassToken(), (torch.randn(2, 4, 4),), tmp_path)
    assert _layers(design).count("Expand") == 3
    assert "self.class_token.expand(proj.size(0), -1, -1)" in code


class OwnLayerNorm(nn.LayerNorm):
    """timm's LayerNorm: the function over the module's own weights."""

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)


class ChannelsLayerNorm(nn.LayerNorm):
    """ConvNeXt's LayerNorm2d: channels last, normalise, channels back."""

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class BatchNormAct(nn.BatchNorm2d):
    """timm's BatchNormAct2d: F.batch_norm in its own forward, then an activation."""

    def __init__(self, channels: int) -> None:
        super().__init__(channels, momentum=0.2)
        self.act = nn.ReLU()

    def forward(self, x):
        x = F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                         self.training, self.momentum, self.eps)
        return self.act(x)


class OwnLinear(nn.Linear):
    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


class OwnGroupNorm(nn.GroupNorm):
    def forward(self, x):
        return F.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)


class OwnWeights(nn.Module):
    def __init__(self, branch: bool = False) -> None:
        super().__init__()
        self.branch = branch
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = BatchNormAct(8)
        self.norm = ChannelsLayerNorm(8, eps=1e-6)
        self.group = OwnGroupNorm(2, 8)
        self.fc = OwnLinear(8 * 4 * 4, 10)
        self.head_norm = OwnLayerNorm(10)

    def forward(self, x):
        if self.branch and x.size(1) > 0:  # symbolic tracing cannot: torch.export instead
            x = x * 2
        x = self.group(self.norm(self.bn(self.conv(x))))
        return self.head_norm(self.fc(x.flatten(1)))


def _with_statistics(model):
    torch.manual_seed(0)
    for buffer in (model.bn.running_mean, model.bn.running_var):
        buffer.uniform_(0.5, 1.5)
    return model


@pytest.mark.parametrize("branch", [False, True], ids=["symbolic", "export"])
def test_functions_over_a_modules_own_weights_import_as_its_layer(branch, tmp_path):
    design, code = assert_round_trip(_with_statistics(OwnWeights(branch)),
                                     (torch.randn(2, 3, 6, 6),), tmp_path)
    names = {design.node(node).name: design.node(node).type for node in design.nodes("model")}
    assert {"bn": "BatchNorm2d", "bn_act": "ReLU", "norm": "LayerNorm2d", "group": "GroupNorm",
            "fc": "Linear", "head_norm": "LayerNorm"}.items() <= names.items()
    assert "Permute" not in names.values()
    assert "self.bn = nn.BatchNorm2d(8, momentum=0.2)" in code


class ReadsItsWeightTwice(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = OwnLinear(4, 4)

    def forward(self, x):
        return self.fc(x) + self.fc.weight.sum()


class TiedWeights(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Linear(4, 4)

    def forward(self, x):
        return F.linear(self.embed(x), self.embed.weight)


@pytest.mark.parametrize("module", [ReadsItsWeightTwice, TiedWeights])
def test_a_function_over_weights_that_are_not_only_its_own_is_refused(module):
    with pytest.raises(DesignError, match="F.linear"):
        import_network(module().eval(), (torch.randn(2, 4),))


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return x + self.fc(x)


def test_a_sequence_of_equal_blocks_keeps_its_items_names(tmp_path):
    """torchvision's ViT names its encoder layers `encoder_layer_0`, ...: no repeat, whose
    copies are named 0, 1, ..."""
    def blocks(design):
        nodes = [design.node(node) for node in design.nodes("model")]
        return [(node.name, node.params["repeat"]) for node in nodes if node.type == "Block"]

    named = nn.Sequential(OrderedDict((f"layer_{index}", Residual()) for index in range(3)))
    design, _ = assert_round_trip(nn.Sequential(named, nn.ReLU()), (torch.randn(2, 4),),
                                  tmp_path)
    assert blocks(design) == [("0", 1)]
    design, _ = assert_round_trip(nn.Sequential(nn.Sequential(*(Residual() for _ in range(3))),
                                                nn.ReLU()), (torch.randn(2, 4),), tmp_path)
    assert blocks(design) == [("0", 3)]


class FusedAttention(nn.Module):
    """timm's Attention: its own projections and heads, then the fused function."""

    def __init__(self, width: int = 8, heads: int = 2) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(width, width * 3)
        self.proj = nn.Linear(width, width)

    def forward(self, x, attn_mask=None, is_causal=False):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        x = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask, is_causal=is_causal,
                                           dropout_p=0.0)
        return self.proj(x.transpose(1, 2).reshape(B, N, C))


class Encoder(nn.Module):
    """A forward with arguments beyond the input, left at their defaults by the example."""

    def __init__(self, causal: bool = False) -> None:
        super().__init__()
        self.causal = causal
        self.norm = nn.LayerNorm(8)
        self.attn = FusedAttention()

    def forward(self, x, attn_mask=None, scale: float = 1.0):
        if attn_mask is not None:
            x = x.masked_fill(attn_mask, 0.0)
        return x + self.attn(self.norm(x), attn_mask=attn_mask, is_causal=self.causal) * scale


@pytest.mark.parametrize("causal", [False, True])
def test_fused_attention_and_forward_arguments_left_at_their_defaults_import(causal,
                                                                             tmp_path):
    torch.manual_seed(0)
    design, code = assert_round_trip(Encoder(causal), (torch.randn(2, 5, 8),), tmp_path)
    assert _layers(design).count("Input") == 1
    attention = [design.node(node) for node in design.nodes("FusedAttention")
                 if design.node(node).type == "ScaledDotProductAttention"]
    assert [node.params["is_causal"] for node in attention] == [causal]
    assert ("is_causal=True" in code) == causal and "mul = attn * 1.0" in code


class MaskedAttention(FusedAttention):
    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mask", torch.ones(5, 5, dtype=torch.bool).tril())

    def forward(self, x):
        return super().forward(x, attn_mask=self.mask)


def test_fused_attention_with_a_buffer_as_its_mask_takes_it_as_input_3(tmp_path):
    _, code = assert_round_trip(MaskedAttention(), (torch.randn(2, 5, 8),), tmp_path)
    assert "attn_mask=self.mask" in code


def test_uses_that_differ_only_in_a_detail_are_one_cause():
    """timm's ConvNeXt reshapes each stage's gamma to another shape: one cause, with the
    shapes as its details, not one cause per shape."""
    shapes = [(1, 96, 1, 1), (1, 192, 1, 1), (1, 96, 1, 1), (1, 384, 1, 1), (1, 768, 1, 1)]
    refusals = [Refusal("Tensor.reshape", "does not keep the batch as the first dimension (it "
                        f"gives {shape} for a batch of 2)", f" at /src/model.py:{12 + at} (y)")
                for at, shape in enumerate(shapes)]
    refusals.append(Refusal("torch.sin", "has no NeuralCanvas layer"))
    reshape, sin = grouped(refusals)
    assert reshape == (
        "5 uses of Tensor.reshape: does not keep the batch as the first dimension (it gives "
        "(1, 96, 1, 1) for a batch of 2; it gives (1, 192, 1, 1) for a batch of 2; it gives "
        "(1, 384, 1, 1) for a batch of 2; ...) (/src/model.py:12 y; /src/model.py:13 y; "
        "/src/model.py:14 y; ...)")
    assert sin == "torch.sin: has no NeuralCanvas layer"
    assert grouped(refusals[:1]) == [
        "Tensor.reshape: does not keep the batch as the first dimension (it gives "
        "(1, 96, 1, 1) for a batch of 2) (/src/model.py:12 y)"]


class TokenEmbedding(nn.Module):
    """Hugging Face ViT's embeddings: a class token of its own, expanded to the batch."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(4, 8)
        self.token = nn.Parameter(torch.randn(1, 1, 8))

    def forward(self, x):
        return torch.cat([self.token.expand(x.size(0), -1, -1), self.proj(x)], dim=1)


class MaskedEncoder(nn.Module):
    """What torch.export records of a Hugging Face encoder when nothing is padded: a mask made
    from positions (all True, or all False when `block_all`), expanded to the batch."""

    def __init__(self, block_all: bool = False) -> None:
        super().__init__()
        self.block_all = block_all
        self.embeddings = TokenEmbedding()
        self.attn = FusedAttention()

    def forward(self, x):
        if x.size(1) > 0:  # symbolic tracing cannot: torch.export instead
            x = self.embeddings(x)
        length = x.size(1)
        positions = torch.arange(length)[None, None, :, None]
        mask = (positions < 0) if self.block_all else (positions >= 0)
        mask = mask.expand(x.size(0), -1, length, length)
        return x + self.attn(x, attn_mask=mask)


def test_an_attention_mask_that_masks_nothing_is_no_mask_and_weights_stay_in_their_block(
        tmp_path):
    torch.manual_seed(0)
    design, _ = assert_round_trip(MaskedEncoder(), (torch.randn(2, 5, 4),), tmp_path)
    assert "Parameter" in _layers(design, "TokenEmbedding")


def test_an_attention_mask_that_masks_something_is_held_by_a_buffer_as_the_mask(tmp_path):
    design, code = assert_round_trip(MaskedEncoder(block_all=True), (torch.randn(2, 5, 4),),
                                     tmp_path)
    assert "attn_mask=self.mask" in code and "Buffer" in _layers(design, "FusedAttention")


class PositionIds(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        # values no Buffer init makes (tests/test_i15_buffers.py imports those that one does)
        self.register_buffer("ids", torch.linspace(0.0, 1.0, 5), persistent=False)

    def forward(self, x):
        return x + self.ids


def test_a_buffer_left_out_of_the_state_dict_is_refused_naming_it():
    with pytest.raises(DesignError, match="'ids'.*persistent=False"):
        import_network(PositionIds(), (torch.randn(2, 5),))
