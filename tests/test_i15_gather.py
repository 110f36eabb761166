"""Issue 15: torch.gather as a Gather node (input and index), so BERT's token type ids,
gathered at the position ids from two non-persistent buffers, import exactly."""

from __future__ import annotations

import re

import pytest
import torch
from test_codegen_helpers import single_thread
from test_i15_importer import assert_round_trip
from torch import nn

import engine
from engine import Design
from engine.errors import ShapeError
from engine.layers import TensorInfo, get_layer

pytestmark = pytest.mark.usefixtures(single_thread.__name__)


class TokenTypes(nn.Module):
    """BERT's embeddings without token type ids given: zeros gathered at the positions."""

    def __init__(self) -> None:
        super().__init__()
        self.words = nn.Embedding(10, 4)
        self.types = nn.Embedding(2, 4)
        self.register_buffer("position_ids", torch.arange(12).expand((1, -1)), persistent=False)
        self.register_buffer("token_type_ids", torch.zeros(1, 12, dtype=torch.long),
                             persistent=False)

    def forward(self, ids):
        batch, length = ids.size()
        positions = self.position_ids[:, :length]
        types = torch.gather(self.token_type_ids.expand(1, -1), dim=1, index=positions)
        return self.words(ids) + self.types(types.expand(batch, length))


def test_berts_gathered_token_types_import_exactly(tmp_path):
    design, code = assert_round_trip(TokenTypes(), (torch.randint(0, 10, (2, 6)),), tmp_path)
    assert re.search(r"= torch\.gather\(\w+, 1, \w+\)\n", code)


def test_a_gather_picks_each_samples_score_at_its_label():
    design = Design("picked")
    scores = design.add("Input", shape=(5,), name="scores")
    labels = design.add("Input", shape=(1,), dtype="long", name="labels")
    design.add("Output", design.add("Gather", scores, labels, dim=1))
    model = engine.build_model(design)
    x, index = torch.randn(3, 5), torch.tensor([[4], [0], [2]])
    assert torch.equal(model(x, index), x.gather(1, index))


@pytest.mark.parametrize("shapes, dtype, dim, words", [
    ([("N", 5), ("N", 2)], "float", 1, "must hold whole-number positions"),
    ([("N", 5), ("N", 2, 1)], "long", 1, "same number of dimensions"),
    ([("N", 5), ("N", 2)], "long", 0, "must not pick along the batch"),
    ([(1, 5), ("N", 2)], "long", 1, "has a batch but the input"),
    ([("N", 2, 3), ("N", 2, 4)], "long", 1, "larger than the input .* in dimension 2")])
def test_a_gather_that_cannot_run_says_why(shapes, dtype, dim, words):
    inputs = [TensorInfo(shapes[0]), TensorInfo(shapes[1], dtype)]
    with pytest.raises(ShapeError, match=words):
        get_layer("Gather").infer(inputs, {"dim": dim})
