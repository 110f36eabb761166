"""Issue 15, the importer: arithmetic and parameters read in forward import exactly; one
refusal lists every problem grouped by cause; submodules named like GraphModule attributes,
every template's exported model and dict outputs import."""

import math

import pytest
import torch
import torchvision
from test_codegen_helpers import load_exported, sample_inputs, single_thread
from test_import_modules import _line_of
from torch import nn
from torchvision.models.feature_extraction import create_feature_extractor

import engine
from engine.codegen.export import export_script
from engine.errors import DesignError
from engine.importing import import_network
from templates import load_template, template_names

pytestmark = pytest.mark.usefixtures(single_thread.__name__)


def _flat(result):
    if isinstance(result, dict):
        return list(result.values())
    return list(result) if isinstance(result, (tuple, list)) else [result]


def assert_round_trip(original, inputs, tmp_path, network="model"):
    """import -> build -> export -> load: both take the original's weights strictly and
    compute exactly what it computes."""
    original.eval()
    design = import_network(original, inputs, network=network).design
    built = engine.build_model(design, network).eval()
    script = export_script(design)
    exported = load_exported(script.code, tmp_path)[script.classes[network]]().eval()
    with torch.no_grad():
        expected = _flat(original(*inputs))
        for candidate in (built, exported):
            assert sorted(candidate.state_dict()) == sorted(original.state_dict())
            candidate.load_state_dict(original.state_dict(), strict=True)
            actual = _flat(candidate(*inputs))
            assert len(actual) == len(expected)
            for got, want in zip(actual, expected):
                assert got.shape == want.shape and torch.equal(got, want)
    return design, script.code


class Arithmetic(nn.Module):
    """Constants, element-wise functions, matrix products and weights read in forward."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 6)
        self.gamma = nn.Parameter(torch.randn(6))
        self.register_buffer("shift", torch.randn(6))

    def forward(self, x):
        y = torch.exp(self.fc(x)) * 2 + 1.0
        y = y * self.gamma - self.shift
        y = 1 - y / math.sqrt(6)
        scores = y.unsqueeze(2) @ y.unsqueeze(1)
        return -torch.abs(scores).sqrt(), torch.log(y.abs() + 1) ** 2, (y * y + 1).rsqrt().neg()


def test_arithmetic_and_weights_read_in_forward_import_exactly(tmp_path):
    torch.manual_seed(0)
    design, code = assert_round_trip(Arithmetic(), (torch.randn(3, 4),), tmp_path)
    layers = {design.node(node).type for node in design.nodes("model")}
    assert {"Arithmetic", "Elementwise", "MatMul", "Parameter", "Buffer", "Subtract",
            "Multiply"} <= layers
    assert "self.gamma = nn.Parameter(" in code and "mul = exp * 2.0" in code
    assert "1.0 - truediv" in code


class LayerScale(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.gamma = nn.Parameter(torch.rand(width) + 0.5)

    def forward(self, x):
        return x + self.gamma * self.fc(x)


class TwoTensors(nn.Module):
    """Operations between two tensors, in-place operators and weights inside blocks."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.Sequential(LayerScale(6), LayerScale(6))
        self.key = nn.Linear(6, 6)

    def forward(self, x):
        x = self.blocks(x)
        y = self.key(x)
        ratio = x / (y.abs() + 1)
        ratio -= 0.5
        ratio /= 2
        power = (ratio.abs() + 1) ** torch.sigmoid(y)
        scores = torch.bmm(power.unsqueeze(2), y.unsqueeze(1))
        return torch.matmul(scores, x.unsqueeze(2)).flatten(1)


def test_operations_between_tensors_and_weights_inside_blocks_import_exactly(tmp_path):
    torch.manual_seed(0)
    design, code = assert_round_trip(TwoTensors(), (torch.randn(3, 6),), tmp_path)
    layers = {design.node(node).type for node in design.nodes("model")}
    assert {"Divide", "Power", "MatMul"} <= layers
    assert design.blocks == ["LayerScale"]
    assert "self.gamma = nn.Parameter(" in code


class Refused(nn.Module):
    """Five layers with no equivalent, and functions used many times: one line per cause."""

    def __init__(self) -> None:
        super().__init__()
        self.norms = nn.ModuleList(nn.LocalResponseNorm(2) for _ in range(5))

    def forward(self, x):
        x = torch.sin(x)
        for norm in self.norms:
            x = torch.sin(norm(x))
        return torch.cos(x * 2).cumsum(1)


def test_one_refusal_lists_every_problem_grouped_by_cause():
    with pytest.raises(DesignError) as caught:
        import_network(Refused(), torch.randn(2, 3, 4, 4))
    message, problems = str(caught.value), caught.value.problems
    assert message.startswith("cannot import Refused: 13 operations without a NeuralCanvas "
                              "equivalent, for 4 reasons:")
    assert len(problems) == 4, problems
    sin, norm, cos, total = problems
    assert sin.startswith("6 uses of torch.sin: has no NeuralCanvas layer (")
    assert f"{__file__}:{_line_of(Refused, 'x = torch.sin(x)')} x = torch.sin(x)" in sin
    assert f"{__file__}:{_line_of(Refused, 'sin(norm(x))')}" in sin
    assert norm.startswith("5 uses of LocalResponseNorm ('norms.0', 'norms.1', 'norms.2', "
                           "...): ")
    assert cos.startswith("torch.cos: ") and total.startswith("Tensor.cumsum: ")
    assert "operator *" not in message  # `x * 2` after a refused operation is no problem


@pytest.mark.parametrize("name", ["code", "graph", "meta", "recompile", "to_folder"])
def test_submodules_named_like_graph_module_attributes_import(name, tmp_path):
    class Named(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.add_module(name, nn.Linear(4, 3))

        def forward(self, x):
            return getattr(self, name)(x)

    assert_round_trip(Named(), (torch.randn(2, 4),), tmp_path)


@pytest.mark.parametrize("template", template_names())
def test_every_templates_exported_model_reimports_exactly(template, tmp_path):
    design = load_template(template)
    script = export_script(design)
    namespace = load_exported(script.code, tmp_path, "template.py")
    for network, class_name in script.classes.items():
        torch.manual_seed(0)
        original = namespace[class_name]().eval()
        inputs = tuple(sample_inputs(design, network))
        folder = tmp_path / network
        folder.mkdir()
        assert_round_trip(original, inputs, folder, network)


def test_dict_outputs_become_one_output_per_key(tmp_path):
    extractor = create_feature_extractor(torchvision.models.resnet18(),
                                         {"layer2": "middle", "layer4": "feat"})
    design, _ = assert_round_trip(extractor, (torch.randn(1, 3, 32, 32),), tmp_path)
    outputs = [design.node(node).name for node in design.nodes("model")
               if design.node(node).type == "Output"]
    assert outputs == ["middle", "feat"]


class WithAuxiliary(nn.Module):
    """An auxiliary head that only training uses (BatchNorm: a buffer of dtype int64 too)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Linear(4, 6)
        self.aux = nn.Sequential(nn.Linear(6, 2), nn.BatchNorm1d(2))
        self.head = nn.Linear(6, 3)
        self.head.stddev = 0.1  # torchvision marks layers so for its initialisation

    def forward(self, x):
        x = torch.relu(self.body(x))
        if self.training:
            return self.head(x), self.aux(x)
        return self.head(x)


def test_submodules_only_training_uses_are_kept_with_their_weights(tmp_path):
    torch.manual_seed(0)
    original = WithAuxiliary()
    design, code = assert_round_trip(original, (torch.randn(2, 4),), tmp_path)
    assert "only training mode uses their results" in design.description
    assert "self.aux = nn.Sequential(nn.Linear(6, 2), nn.BatchNorm1d(2))" in code
    assert "        self.aux(relu)\n" in code  # called as the original calls it; result unread


def _torchvision_auxiliary(name: str, size: int) -> None:
    torch.manual_seed(0)
    original = getattr(torchvision.models, name)(aux_logits=True, init_weights=False).eval()
    result = import_network(original, torch.randn(2, 3, size, size))
    assert result.left_out == []
    built = engine.build_model(result.design).eval()
    built.load_state_dict(original.state_dict(), strict=True)
    batch = torch.randn(3, 3, size, size)
    with torch.no_grad():
        assert torch.equal(built(batch), original(batch))


def test_googlenets_auxiliary_heads_are_kept():
    _torchvision_auxiliary("googlenet", 64)


@pytest.mark.slow
def test_inceptions_auxiliary_head_is_kept():
    _torchvision_auxiliary("inception_v3", 299)


def test_an_auxiliary_head_the_example_is_too_small_for_is_left_out():
    """In training it would fail on this image size too; the rest imports as before."""
    original = torchvision.models.inception_v3(aux_logits=True, init_weights=False)
    result = import_network(original, torch.randn(1, 3, 80, 80))
    assert result.left_out == ["AuxLogits"]


class Tied(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x) @ self.fc.weight


def test_a_layers_weight_read_in_forward_is_refused_by_name():
    with pytest.raises(DesignError, match="attribute 'fc.weight': reads a tensor of 'fc', "
                                          "which forward also calls as a layer"):
        import_network(Tied(), torch.randn(2, 4))
