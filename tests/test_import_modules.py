"""Hand-written modules import faithfully; what cannot be imported is listed, line by line."""

import inspect

import pytest
import torch
import torch.nn.functional as F
import torchvision
from deep_residual import DeepResidual
from test_codegen_helpers import load_exported, ruff_problems, single_thread
from torch import nn

import engine
from engine.codegen.export import export_script
from engine.errors import DesignError
from engine.importing import import_module, import_network

pytestmark = pytest.mark.usefixtures(single_thread.__name__)


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())

    def forward(self, x):
        return F.relu(x + self.body(x))


class SkipNet(nn.Module):
    """Residual blocks with functional activations, `+`, a mean over the image and a head."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.blocks = nn.ModuleList(Block() for _ in range(3))
        self.head = nn.Linear(8, 5)

    def forward(self, x):
        x = F.relu(self.stem(x))
        for block in self.blocks:
            x = block(x)
        return self.head(torch.flatten(x.mean([2, 3]), 1))


class TokenLSTM(nn.Module):
    """Token ids -> embedding -> LSTM; the last layer's final hidden state is classified."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 8)
        self.lstm = nn.LSTM(8, 16, num_layers=2, batch_first=True)
        self.out = nn.Linear(16, 3)

    def forward(self, tokens):
        _, (h_n, _) = self.lstm(self.embed(tokens))
        return self.out(h_n[-1])


class SequenceGRU(nn.Module):
    """A GRU's output sequence, its last step taken by indexing."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(4, 6, batch_first=True)
        self.out = nn.Linear(6, 2)

    def forward(self, series):
        steps, _ = self.gru(series)
        return self.out(steps[:, -1, :])


class ConcatNet(nn.Module):
    """Branches joined by torch.cat, a channel split and swap, a transpose, and a view that
    reads the batch size from the tensor."""

    def __init__(self) -> None:
        super().__init__()
        self.left = nn.Conv2d(3, 4, 3, padding=1)
        self.right = nn.Conv2d(3, 4, 1)
        self.fc = nn.Linear(8 * 6 * 6, 4)

    def forward(self, x):
        y = torch.cat([self.left(x), F.relu(self.right(x))], dim=1)
        first, second = y.chunk(2, dim=1)
        y = torch.cat((second, first), 1).transpose(2, 3).contiguous()
        return self.fc(y.view(y.size(0), -1))


class TwoInOut(nn.Module):
    """Two inputs, two outputs."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(4, 3)
        self.b = nn.Linear(5, 3)

    def forward(self, left, right):
        joined = self.a(left) * self.b(right)
        return joined, torch.sigmoid(joined)


EXAMPLES = {
    "skip": (SkipNet, lambda b: torch.randn(b, 3, 6, 6)),
    "lstm": (TokenLSTM, lambda b: torch.randint(0, 50, (b, 7))),
    "gru": (SequenceGRU, lambda b: torch.randn(b, 5, 4)),
    "concat": (ConcatNet, lambda b: torch.randn(b, 3, 6, 6)),
}


def _run(model, example):
    with torch.no_grad():
        result = model(*example) if isinstance(example, tuple) else model(example)
    return result if isinstance(result, tuple) else (result,)


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_hand_written_module_imports_and_exports_faithfully(name, tmp_path):
    cls, make = EXAMPLES[name]
    torch.manual_seed(0)
    original = cls().eval()
    design = import_module(original, make(2))
    model = engine.build_model(design).eval()
    model.load_state_dict(original.state_dict(), strict=True)
    script = export_script(design)
    assert ruff_problems(script.code) == []
    exported = load_exported(script.code, tmp_path)[script.classes["model"]]().eval()
    exported.load_state_dict(original.state_dict(), strict=True)
    for batch in (1, 3):  # the example had 2: nothing about it is baked in
        example = make(batch)
        expected = _run(original, example)
        for candidate in (model, exported):
            for got, want in zip(_run(candidate, example), expected, strict=True):
                assert got.shape == want.shape and torch.equal(got, want)


def test_several_inputs_and_outputs_import_faithfully():
    original = TwoInOut().eval()
    design = import_module(original, (torch.randn(2, 4), torch.randn(2, 5)))
    model = engine.build_model(design).eval()
    model.load_state_dict(original.state_dict(), strict=True)
    example = (torch.randn(3, 4), torch.randn(3, 5))
    for got, want in zip(_run(model, example), _run(original, example), strict=True):
        assert torch.equal(got, want)


class DropPath(nn.Module):
    """A residual branch dropped per sample while training (torchvision's StochasticDepth)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 6)
        self.drop = torchvision.ops.StochasticDepth(0.5, "row")
        self.dropout = nn.Dropout(0.3)

    def forward(self, x):
        return self.dropout(x + self.drop(self.fc(x)))


def test_training_mode_randomness_is_kept_not_frozen_to_evaluation():
    original = DropPath()
    design = import_module(original, torch.randn(2, 6))
    assert {design.node(n).type for n in design.nodes()} >= {"StochasticDepth", "Dropout"}
    model = engine.build_model(design)
    model.load_state_dict(original.state_dict(), strict=True)
    x = torch.randn(64, 6)
    results = []
    for candidate in (original.train(), model.train()):
        torch.manual_seed(7)
        results.append(candidate(x))
    assert torch.equal(*results)
    assert not torch.equal(results[0], original.eval()(x))  # training really drops


def test_repeated_blocks_become_uses_of_one_definition_with_readable_names():
    design = import_module(SkipNet(), torch.randn(2, 3, 6, 6))
    names = {design.node(n).name for n in design.nodes()}
    assert {"stem", "relu", "blocks.0", "blocks.1", "blocks.2", "head"} <= names
    assert {design.node(n).name for n in design.nodes("Block")} >= {"body", "add", "relu"}
    code = export_script(design).code
    assert "[Block(in_channels=8), Block(in_channels=8), Block(in_channels=8)]" in code
    assert "add = x + body" in code


class Unsupported(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.norm = nn.LocalResponseNorm(2)
        self.scale = nn.Parameter(torch.ones(1))
        self.pool = nn.MaxPool2d(2, dilation=2)

    def forward(self, x):
        x = self.norm(self.conv(x))
        x = torch.sin(x) * self.scale
        x = self.pool(x)
        return x.cumsum(dim=2)


def _line_of(cls: type, text: str) -> int:
    lines, start = inspect.getsourcelines(cls.forward)
    return start + next(i for i, line in enumerate(lines) if text in line)


def test_unsupported_operations_are_listed_with_their_source_lines():
    with pytest.raises(DesignError) as caught:
        import_module(Unsupported(), torch.randn(2, 3, 8, 8))
    problems = caught.value.problems
    expected = [("LocalResponseNorm 'norm'", "self.norm(self.conv(x))"), ("torch.sin", "torch.sin(x)"),
                ("dilation=2", "self.pool(x)"),
                ("Tensor.cumsum", "x.cumsum(dim")]
    assert len(problems) == len(expected), problems
    for (what, code), problem in zip(expected, problems):
        assert what in problem and f"{__file__}:{_line_of(Unsupported, code)}" in problem
    assert str(len(expected)) in str(caught.value)


class Branching(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        return -x


class Shared(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(self.fc(x))


class FoldsBatch(nn.Module):
    def forward(self, x):
        return x.view(-1, 2)


@pytest.mark.parametrize("module, example, message", [
    (Branching(), torch.randn(2, 3), "cannot trace"),
    (Shared(), torch.randn(2, 4), "called 2 times"),
    (FoldsBatch(), torch.randn(2, 4), "does not keep the batch"),
])
def test_modules_that_cannot_become_designs_say_why_and_where(module, example, message):
    with pytest.raises(DesignError, match=message) as caught:
        import_module(module, example)
    assert f"{__file__}:" in str(caught.value)


class WithSpare(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.used = nn.Linear(4, 2)
        self.spare = nn.Sequential(nn.Linear(4, 4), nn.ReLU())

    def forward(self, x):
        return self.used(x)


def test_submodules_forward_never_calls_are_left_out_and_named():
    original = WithSpare()
    result = import_network(original, torch.randn(2, 4))
    assert result.left_out == ["spare"]
    assert "spare" in result.design.description
    model = engine.build_model(result.design)
    model.load_state_dict(result.state_dict, strict=True)
    assert set(result.state_dict) == {"used.weight", "used.bias"}


def test_a_thousand_node_model_imports_whole():
    """How long it takes: benchmarks/latency.py (limit 10 s)."""
    design = import_module(DeepResidual(), torch.randn(2, 8))
    assert len(design.nodes()) == 1002
    assert engine.check(design).ok
