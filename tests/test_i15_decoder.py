"""Issue 15, item 3: the Transformer decoder block, and an encoder-decoder (translation) model
drawn from TransformerEncoderLayer + TransformerDecoderLayer + Embedding + Linear that builds,
trains, exports and imports back exactly; TransformerEncoderLayer's settings round-trip or are
refused by name."""

from __future__ import annotations

import pytest
import torch
from test_codegen_helpers import load_exported, single_thread
from torch import nn

import engine
from engine import Design, check
from engine.codegen.export import export_script
from engine.errors import DesignError, ShapeError
from engine.importing import import_network
from engine.layers import TensorInfo, get_layer

pytestmark = pytest.mark.usefixtures(single_thread.__name__)
VOCAB, LENGTH, WIDTH = 7, 5, 16


def translator(**decoder: object) -> Design:
    """One Input of (source, target) id pairs, as training feeds one tensor per sample:
    source -> embedding -> encoder = memory; target -> embedding -> decoder(target, memory)
    -> scores over the vocabulary."""
    design = Design("translator")
    pair = design.add("Input", shape=(2, LENGTH), dtype="long", name="pair")
    source = design.add("Select", pair, dim=1, index=0, name="src")
    target = design.add("Select", pair, dim=1, index=1, name="tgt")
    def embedded(ids: str, name: str) -> str:  # attention needs a position signal
        tokens = design.add("Embedding", ids, num_embeddings=VOCAB, embedding_dim=WIDTH,
                            name=f"{name}_embed")
        positions = design.add("Parameter", shape=(LENGTH, WIDTH), init="normal",
                               name=f"{name}_positions")
        return design.add("Add", tokens, positions, name=f"{name}_tokens")

    memory = design.add("TransformerEncoderLayer", embedded(source, "src"), nhead=2,
                        dim_feedforward=32, dropout=0.0, name="encoder")
    decoded = design.add("TransformerDecoderLayer", embedded(target, "tgt"), memory,
                         name="decoder", **{"nhead": 2, "dim_feedforward": 32, "dropout": 0.0,
                                            **decoder})
    design.add("Output", design.add("Linear", decoded, out_features=VOCAB, name="head"))
    return design


def _pairs(batch: int = 3) -> torch.Tensor:
    generator = torch.Generator().manual_seed(batch)
    return torch.randint(0, VOCAB, (batch, 2, LENGTH), generator=generator)


def _copy_task(batch: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(pairs, answers): the target is the source shifted right behind a start token (0)."""
    source = torch.randint(1, VOCAB, (batch, LENGTH))
    target = torch.cat([torch.zeros(batch, 1, dtype=torch.long), source[:, :-1]], dim=1)
    return torch.stack([source, target], dim=1), source


@pytest.mark.parametrize("settings", [
    {"tgt_is_causal": True},
    {"norm_first": True, "activation": "gelu", "layer_norm_eps": 1e-6},
    {"bias": False, "tgt_is_causal": True},
])
def test_the_translator_builds_exports_and_imports_back_exactly(settings, tmp_path):
    design = translator(**settings)
    report = check(design)
    assert report.ok, report.problems
    model = engine.build_model(design).eval()
    assert report.total_params() == sum(p.numel() for p in model.parameters())
    script = export_script(design)
    exported = load_exported(script.code, tmp_path)[script.classes["model"]]().eval()
    exported.load_state_dict(model.state_dict(), strict=True)
    inputs = (_pairs(),)
    with torch.no_grad():
        expected = model(*inputs)
        assert torch.equal(exported(*inputs), expected)
    if settings.get("tgt_is_causal"):
        assert "nn.Transformer.generate_square_subsequent_mask(" in script.code
        assert "tgt_is_causal=True" in script.code
    imported = import_network(exported, inputs).design
    (decoder,) = [imported.node(n) for n in imported.nodes()
                  if imported.node(n).type == "TransformerDecoderLayer"]
    assert decoder.params == design.node(design.find("decoder")).params
    again = engine.build_model(imported)
    again.load_state_dict(model.state_dict(), strict=True)
    with torch.no_grad():
        assert torch.equal(again.eval()(*inputs), expected)


def test_a_causal_decoder_does_not_look_ahead():
    torch.manual_seed(0)
    model = engine.build_model(translator(tgt_is_causal=True)).eval()
    pairs = _pairs()
    changed = pairs.clone()
    changed[:, 1, -1] = (changed[:, 1, -1] + 1) % VOCAB
    with torch.no_grad():
        before, after = model(pairs), model(changed)
    assert torch.equal(before[:, :-1], after[:, :-1])
    assert not torch.equal(before[:, -1], after[:, -1])


@pytest.mark.parametrize("shapes, words", [
    ([("N", 5, 16), ("N", 7, 8)], "same embedding size"),
    ([("N", 5, 16), ("N", 16)], "(N, length, embedding)"),
    ([("N", 5, 18), ("N", 7, 18)], "divisible by the number of heads"),
])
def test_a_misfit_decoder_is_refused_in_plain_words(shapes, words):
    spec = get_layer("TransformerDecoderLayer")
    with pytest.raises(ShapeError) as refused:
        spec.infer([TensorInfo(shape) for shape in shapes], spec.defaults())
    assert words in str(refused.value)


class DecoderWithMask(nn.Module):
    """A decoder layer called with a mask the layer cannot hold."""

    def __init__(self, mask: torch.Tensor) -> None:
        super().__init__()
        self.layer = nn.TransformerDecoderLayer(8, 2, 16, batch_first=True)
        self.mask = mask

    def forward(self, target, memory):
        return self.layer(target, memory, tgt_mask=self.mask)


def test_a_mask_other_than_the_causal_one_is_refused():
    with pytest.raises(DesignError, match="other than the causal mask"):
        import_network(DecoderWithMask(torch.zeros(4, 4)), (torch.randn(2, 4, 8),
                                                            torch.randn(2, 3, 8)))


class Encoder(nn.Module):
    def __init__(self, **settings: object) -> None:
        super().__init__()
        self.layer = nn.TransformerEncoderLayer(8, 2, **settings)

    def forward(self, x):
        return self.layer(x)


@pytest.mark.parametrize("settings, params", [
    ({"batch_first": True, "dim_feedforward": 16, "dropout": 0.2, "activation": "gelu",
      "norm_first": True}, {"nhead": 2, "dim_feedforward": 16, "dropout": 0.2,
                            "activation": "gelu", "norm_first": True}),
    ({"batch_first": True, "activation": nn.GELU()}, {"activation": "gelu"}),
    ({"batch_first": True, "activation": nn.functional.relu}, {"activation": "relu"}),
])
def test_encoder_settings_are_read_back(settings, params, tmp_path):
    original = Encoder(**settings).eval()
    design = import_network(original, torch.randn(2, 5, 8)).design
    (layer,) = [design.node(n) for n in design.nodes()
                if design.node(n).type == "TransformerEncoderLayer"]
    assert params.items() <= layer.params.items()


@pytest.mark.parametrize("settings, words", [
    ({}, "batch_first=False"),
    ({"batch_first": True, "layer_norm_eps": 1e-6}, "layer_norm_eps=1e-06"),
    ({"batch_first": True, "bias": False}, "bias=False"),
    ({"batch_first": True, "activation": nn.SiLU()}, "'activation'"),
    ({"batch_first": True, "activation": nn.GELU(approximate="tanh")}, "'activation'"),
])
def test_encoder_settings_the_layer_cannot_keep_are_named(settings, words):
    with pytest.raises(DesignError) as refused:
        import_network(Encoder(**settings), torch.randn(2, 5, 8))
    assert words in str(refused.value)


@pytest.mark.slow
def test_the_translator_learns_to_copy():
    """A tiny synthetic copy task: the target is the source shifted right behind a start
    token, and the model predicts the source; a causal decoder must learn it from memory."""
    torch.manual_seed(0)
    model = engine.build_model(translator(tgt_is_causal=True))
    optimiser = torch.optim.Adam(model.parameters(), lr=5e-3)
    for _ in range(300):
        pairs, answers = _copy_task(32)
        loss = nn.functional.cross_entropy(model(pairs).reshape(-1, VOCAB), answers.reshape(-1))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    pairs, answers = _copy_task(64)
    with torch.no_grad():
        accuracy = (model(pairs).argmax(-1) == answers).float().mean().item()
    assert accuracy > 0.9, accuracy
