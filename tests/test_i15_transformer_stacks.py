"""Issue 15: nn.TransformerEncoder, nn.TransformerDecoder and nn.Transformer import layer by
layer (one TransformerEncoderLayer or TransformerDecoderLayer node each, the final norm a
LayerNorm), round-trip exactly at another batch size with the original's state_dict loaded
strictly, and a stack's own forward is back after the import."""

from __future__ import annotations

import pytest
import torch
from model_matrix import Case, round_trip
from test_codegen_helpers import single_thread
from torch import nn

from engine.codegen.export import export_script
from engine.errors import DesignError
from engine.importing import import_network

pytestmark = pytest.mark.usefixtures(single_thread.__name__)
WIDTH, VOCABULARY = 16, 30


def _encoder_layer() -> nn.TransformerEncoderLayer:
    return nn.TransformerEncoderLayer(WIDTH, 2, 32, dropout=0.0, batch_first=True)


def _decoder_layer() -> nn.TransformerDecoderLayer:
    return nn.TransformerDecoderLayer(WIDTH, 4, 24, dropout=0.0, batch_first=True,
                                      norm_first=True)


class Classifier(nn.Module):
    """Token classification over an encoder stack with a final LayerNorm."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCABULARY, WIDTH)
        self.encoder = nn.TransformerEncoder(_encoder_layer(), 3, norm=nn.LayerNorm(WIDTH),
                                             enable_nested_tensor=False)
        self.head = nn.Linear(WIDTH, 5)

    def forward(self, tokens):
        return self.head(self.encoder(self.embed(tokens)))


class Translator(nn.Module):
    """The seeds' translation example: a decoder stack over an encoder's memory, the target
    masked causally."""

    def __init__(self) -> None:
        super().__init__()
        self.source_embed = nn.Embedding(VOCABULARY, WIDTH)
        self.target_embed = nn.Embedding(VOCABULARY, WIDTH)
        self.encoder = nn.TransformerEncoder(_encoder_layer(), 2, enable_nested_tensor=False)
        self.decoder = nn.TransformerDecoder(_decoder_layer(), 2)
        self.head = nn.Linear(WIDTH, VOCABULARY)

    def forward(self, source, target):
        memory = self.encoder(self.source_embed(source))
        mask = nn.Transformer.generate_square_subsequent_mask(target.size(1))
        return self.head(self.decoder(self.target_embed(target), memory, tgt_mask=mask))


class Whole(nn.Module):
    """nn.Transformer itself, its target masked causally."""

    def __init__(self) -> None:
        super().__init__()
        self.transformer = nn.Transformer(WIDTH, 2, 2, 1, 32, dropout=0.0, batch_first=True)

    def forward(self, source, target):
        mask = nn.Transformer.generate_square_subsequent_mask(target.size(1))
        return self.transformer(source, target, tgt_mask=mask)


def _tokens(batch: int, length: int = 7) -> torch.Tensor:
    return torch.randint(0, VOCABULARY, (batch, length))


CASES = [
    Case("hand", "encoder_stack", Classifier, lambda batch: (_tokens(batch),)),
    Case("hand", "translator", Translator, lambda batch: (_tokens(batch, 6), _tokens(batch))),
    Case("hand", "transformer", Whole,
         lambda batch: (torch.randn(batch, 6, WIDTH), torch.randn(batch, 5, WIDTH))),
]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_stacks_round_trip_exactly_at_another_batch(case, tmp_path):
    trip = round_trip(case, tmp_path)
    assert trip.status == "exact", trip.refusal or trip.problems


def test_each_layer_of_a_stack_is_a_node_named_as_in_the_model():
    model = Translator().eval()
    result = import_network(model, (_tokens(2, 6), _tokens(2)))
    keys = set(result.state_dict)
    assert keys == set(model.state_dict())
    assert "decoder.layers.1.multihead_attn.in_proj_weight" in keys
    # the stack's own forward is back: it still runs its fast paths and checks
    assert "forward" not in vars(model.encoder) and "forward" not in vars(model.decoder)


class MaskedEncoder(nn.Module):
    """An encoder whose layers see only their two neighbours: a mask no layer node holds."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.TransformerEncoder(_encoder_layer(), 2, enable_nested_tensor=False)

    def forward(self, x):
        near = torch.ones(5, 5).triu(-1).tril(1)
        return self.encoder(x, mask=torch.zeros_like(near).masked_fill(near == 0, -1e9))


def test_a_mask_the_layers_cannot_hold_is_refused_naming_each_layer():
    with pytest.raises(DesignError) as refusal:
        import_network(MaskedEncoder(), (torch.randn(2, 5, WIDTH),))
    assert ("TransformerEncoderLayer ('encoder.layers.0', 'encoder.layers.1'): is given "
            "src_mask; the layer takes one tensor") in str(refusal.value)


def test_a_design_with_two_inputs_exports_its_classes_and_says_why_no_training():
    design = import_network(Translator().eval(), (_tokens(2, 6), _tokens(2))).design
    code = export_script(design).code
    assert "There is no training part: network 'model' has 2 Inputs" in " ".join(code.split())
    assert "__main__" not in code
    namespace: dict = {}
    exec(compile(code, "translator.py", "exec"), namespace)  # noqa: S102 - our own export
    assert namespace["Model"]()(_tokens(3, 6), _tokens(3)).shape == (3, 7, VOCABULARY)
