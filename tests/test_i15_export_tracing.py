"""Forward that torch.fx cannot trace symbolically is traced with torch.export (issue 15,
item 5): sizes used as numbers (`B, T, C = x.size()`), a causal mask buffer sliced by T. The
import is exact, builds and exports; what the design cannot express is named with its line."""

import math

import pytest
import torch
import torch.nn.functional as F
from test_codegen_helpers import load_exported, single_thread
from torch import fx, nn

from engine.codegen.export import export_script
from engine.compiler import build_model
from engine.errors import DesignError
from engine.importing import import_network
from engine.importing.tracing import trace

pytestmark = pytest.mark.usefixtures(single_thread.__name__)


class SinusoidalPositions(nn.Module):
    """PyTorch's tutorial positional encoding: a buffer sliced to the sequence's length T, a
    size symbolic tracing cannot slice a real tensor with."""

    def __init__(self) -> None:
        super().__init__()
        angles = torch.arange(8.0)[:, None] / 10000 ** (torch.arange(0.0, 4, 2) / 4)
        self.register_buffer("positions", torch.cat([angles.sin(), angles.cos()], 1)[None])
        self.norm = nn.LayerNorm(4)
        self.fc = nn.Linear(12, 5)

    def forward(self, x):
        B, T, C = x.size()
        x = self.norm(x + self.positions[:, :T])
        return self.fc(x.view(B, T * C) / math.sqrt(C)).relu()


class CausalSelfAttention(nn.Module):
    """nanoGPT's attention without flash attention: a causal mask buffer sliced to T."""

    def __init__(self, n_embd: int = 16, n_head: int = 2, block_size: int = 8) -> None:
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.attn_dropout = nn.Dropout(0.1)
        self.n_head, self.n_embd = n_head, n_embd
        self.register_buffer("bias", torch.tril(torch.ones(block_size, block_size))
                             .view(1, 1, block_size, block_size))

    def heads(self, x, B, T, C):
        return x.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)

    def scores(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        q, k, v = (self.heads(t, B, T, C) for t in (q, k, v))
        return (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1))), v

    def combine(self, att, v, x):
        B, T, C = x.size()
        y = self.attn_dropout(F.softmax(att, dim=-1)) @ v
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))

    def forward(self, x):
        att, v = self.scores(x)
        T = x.size(1)
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
        return self.combine(att, v, x)


class AdditiveMaskAttention(CausalSelfAttention):
    """The same attention with the mask as a buffer of 0 and -inf that is added."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("bias", torch.full((8, 8), float("-inf")).triu(1).view(1, 1, 8, 8))

    def forward(self, x):
        att, v = self.scores(x)
        T = x.size(1)
        return self.combine(att + self.bias[:, :, :T, :T], v, x)


class ValueDependent(nn.Module):
    """Branches on a tensor's values: neither tracer can follow it."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        if x.sum() > 0:
            return self.fc(x)
        return x


def _round_trip(original: nn.Module, example: torch.Tensor, tmp_path) -> None:
    """Import, build and export: all compute exactly what the original does, on another batch
    size than the traced one, and load its weights strictly under the same keys."""
    with pytest.raises(Exception):
        fx.symbolic_trace(original)  # the fallback is what makes this import work
    result = import_network(original.eval(), example)
    built = build_model(result.design)
    built.load_state_dict(original.state_dict(), strict=True)
    script = export_script(result.design)
    exported = load_exported(script.code, tmp_path)[script.classes["model"]]()
    exported.load_state_dict(original.state_dict(), strict=True)
    assert list(built.state_dict()) == list(exported.state_dict()) == list(
        original.state_dict())
    batch = torch.randn(3, *example.shape[1:])
    with torch.no_grad():
        expected = original(batch)
        assert torch.equal(built.eval()(batch), expected)
        assert torch.equal(exported.eval()(batch), expected)


def test_positions_sliced_to_the_length_import_exactly(tmp_path):
    _round_trip(SinusoidalPositions(), torch.randn(2, 3, 4), tmp_path)


def test_a_causal_mask_buffer_sliced_by_t_imports_exactly(tmp_path):
    torch.manual_seed(0)
    _round_trip(AdditiveMaskAttention(), torch.randn(2, 6, 16), tmp_path)


def test_lifted_layers_keep_their_modules_and_the_rest_reads_as_torch():
    graph = trace(AdditiveMaskAttention().eval(), (torch.randn(2, 6, 16),))
    modules = [node.target for node in graph.nodes if node.op == "call_module"]
    assert modules == ["c_attn", "attn_dropout", "c_proj"]
    assert [node.target for node in graph.nodes if node.op == "get_attr"] == ["bias"]
    aten = [node.target for node in graph.nodes if isinstance(node.target, torch._ops.OpOverload)
            and node.target.__name__ != "sym_size.int"]
    assert aten == []


def test_symbolic_tracing_stays_where_it_works():
    graph = trace(nn.Sequential(nn.Linear(4, 4), nn.ReLU()), (torch.randn(2, 4),))
    assert not any(isinstance(node.target, torch._ops.OpOverload) for node in graph.nodes)


def test_nanogpts_masked_fill_of_a_buffer_comparison_imports_exactly(tmp_path):
    torch.manual_seed(0)
    _round_trip(CausalSelfAttention(), torch.randn(2, 6, 16), tmp_path)
    code = export_script(import_network(CausalSelfAttention(), torch.randn(2, 6, 16))
                         .design).code
    assert '.masked_fill(eq, float("-inf"))' in code


def test_forward_neither_tracer_follows_is_refused_with_both_reasons():
    with pytest.raises(DesignError) as caught:
        import_network(ValueDependent(), torch.randn(2, 4))
    message = str(caught.value)
    assert "cannot trace ValueDependent.forward" in message
    assert "cannot export ValueDependent.forward" in message
    assert "(if x.sum() > 0:)" in message


def _tiny_hugging_face(name: str) -> nn.Module:
    transformers = pytest.importorskip("transformers")
    if name == "gpt2":
        config = transformers.GPT2Config(n_layer=1, n_head=2, n_embd=16, vocab_size=50,
                                         n_positions=16, bos_token_id=0, eos_token_id=0)
        return transformers.GPT2Model(config)
    config = transformers.BertConfig(num_hidden_layers=1, num_attention_heads=2, hidden_size=16,
                                     intermediate_size=32, vocab_size=50,
                                     max_position_embeddings=16)
    return transformers.BertModel(config, add_pooling_layer=False)


class LastHiddenState(nn.Module):
    """A Hugging Face model as one tensor in, one tensor out."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.transformer = model

    def forward(self, ids):
        return self.transformer(ids, use_cache=False).last_hidden_state if hasattr(
            self.transformer.config, "n_layer") else self.transformer(ids).last_hidden_state


@pytest.mark.slow
@pytest.mark.parametrize("name", ["gpt2", "bert"])
def test_hugging_face_models_trace(name, tmp_path):
    """They trace (through torch.export); until the design expresses every operation, the
    refusal names each one with the line of the model's source."""
    torch.manual_seed(0)
    original = LastHiddenState(_tiny_hugging_face(name)).eval()
    ids = torch.randint(0, 50, (2, 6))
    try:
        import_network(original, ids)
    except DesignError as err:
        assert "cannot trace" not in str(err) and "cannot export" not in str(err)
        assert all(".py:" in problem for problem in err.problems
                   if "aten." in problem), err.problems
