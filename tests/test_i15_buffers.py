"""Issue 15: buffers left out of the state_dict (`persistent=False`, Hugging Face's
`position_ids`) import as Buffer nodes whose init remakes their values; the state_dict of the
built and the exported model leaves them out, as the original's does."""

from __future__ import annotations

import ast

import pytest
import torch
from test_codegen_helpers import single_thread
from test_i15_importer import assert_round_trip
from torch import nn

import engine
from engine import Design, check
from engine.errors import DesignError
from engine.importing import import_network

pytestmark = pytest.mark.usefixtures(single_thread.__name__)


class Positions(nn.Module):
    """Token and position embeddings, positions read from a non-persistent buffer."""

    def __init__(self, values: torch.Tensor | None = None) -> None:
        super().__init__()
        self.tokens = nn.Embedding(10, 4)
        self.positions = nn.Embedding(8, 4)
        self.register_buffer("position_ids", torch.arange(8).expand((1, -1)) if values is None
                             else values, persistent=False)

    def forward(self, ids):
        length = ids.shape[1]
        return self.tokens(ids) + self.positions(self.position_ids[:, :length])


def test_a_non_persistent_buffer_imports_with_the_init_that_remakes_it(tmp_path):
    design, code = assert_round_trip(Positions(), (torch.randint(0, 10, (2, 8)),), tmp_path)
    buffer = design.node(design.find("position_ids"))
    assert (buffer.params["init"], buffer.params["dtype"], buffer.params["persistent"]) == (
        "arange", "long", False)
    assert _assigned(code, "self.position_ids") == (
        "nn.Buffer(torch.broadcast_to(torch.arange(8), (1, 8)), persistent=False)")


def _assigned(code: str, target: str) -> str:
    """The value the code assigns to `target`, as one line (the exporter wraps long calls)."""
    return next(ast.unparse(node.value) for node in ast.walk(ast.parse(code))
                if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == target)


@pytest.mark.parametrize("values, init", [(torch.zeros(1, 8, dtype=torch.long), "zeros"),
                                          (torch.full((1, 8), 3), "constant")])
def test_other_fixed_values_get_their_init(values, init, tmp_path):
    design, _ = assert_round_trip(Positions(values), (torch.randint(0, 10, (2, 8)),), tmp_path)
    assert design.node(design.find("position_ids")).params["init"] == init


def test_whole_numbers_no_other_init_makes_are_listed_one_by_one(tmp_path):
    values = torch.tensor([[3, 1, 4, 1, 5, 0, 2, 6]])
    design, code = assert_round_trip(Positions(values), (torch.randint(0, 10, (2, 8)),),
                                     tmp_path)
    buffer = design.node(design.find("position_ids"))
    assert (buffer.params["init"], buffer.params["values"]) == ("values", tuple(values[0].tolist()))
    assert _assigned(code, "self.position_ids") == (
        "nn.Buffer(torch.tensor([[3, 1, 4, 1, 5, 0, 2, 6]]), persistent=False)")


class Noise(nn.Module):
    """Adds fixed random floats kept out of the state_dict: no init remakes them."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("noise", torch.rand(4), persistent=False)

    def forward(self, x):
        return x + self.noise


def test_a_non_persistent_buffer_no_init_makes_is_refused_by_name():
    with pytest.raises(DesignError, match="attribute 'noise': reads a buffer left out "
                                          "of the state_dict .* whose values no Buffer init"):
        import_network(Noise(), torch.randn(2, 4))


def test_a_designed_non_persistent_buffer_counts_positions_and_is_not_saved():
    design = Design("positions")
    x = design.add("Input", shape=(3, 5), name="x")
    steps = design.add("Buffer", shape=(3, 5), init="arange", persistent=False, name="steps")
    design.add("Output", design.add("Add", x, steps))
    model = engine.build_model(design)
    assert "steps" not in model.state_dict()
    assert torch.equal(model.steps, torch.arange(5.0).expand(3, 5))
    model.load_state_dict({}, strict=True)


def test_arange_of_booleans_is_a_problem_that_says_what_to_choose():
    design = Design("flags")
    design.add("Output", design.add("Buffer", shape=(4,), init="arange", dtype="bool"))
    problems = check(design).errors_in("model")
    assert any("init 'arange' counts" in p.message and "dtype long" in (p.fix or "")
               for p in problems)
