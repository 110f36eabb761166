"""torchvision classifiers import as designs that compute exactly what they compute, and so
does the code exported from those designs, at any batch size."""

import pytest
import torch
from test_codegen_helpers import load_exported, ruff_problems, single_thread
from torchvision_models import build, input_size

from engine.codegen.export import export_script
from engine.importing import import_network

# ResNet, VGG, SqueezeNet, MobileNetV2 and DenseNet round-trip through blocks in
# tests/test_i14_import_blocks.py, with their module types; these are the other families.
ARCHITECTURES = ("alexnet", "shufflenet_v2_x0_5", "mnasnet0_5", "regnet_x_400mf",
                 "mobilenet_v3_small", "efficientnet_b0", "googlenet")

pytestmark = pytest.mark.usefixtures(single_thread.__name__)



def _equal(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.equal(a, b)


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_torchvision_model_imports_builds_and_exports_faithfully(name, tmp_path):
    size = input_size(name)
    torch.manual_seed(0)
    original = build(name).eval()
    result = import_network(original, torch.randn(2, 3, size, size))  # checks build_model
    # Only stateless submodules that forward never calls may be left out (EfficientNet's
    # stochastic depth in blocks without a residual connection).
    assert all(not original.get_submodule(name).state_dict() for name in result.left_out)
    assert list(result.state_dict) == list(original.state_dict())  # same keys, same order

    script = export_script(result.design)
    assert ruff_problems(script.code) == []
    exported_class = load_exported(script.code, tmp_path)[script.classes["model"]]
    with torch.device("meta"):  # the weights come from the original: skip initialising them
        exported = exported_class()
    exported.load_state_dict(original.state_dict(), strict=True, assign=True)
    batch = torch.randn(3, 3, size, size)  # not the traced batch size
    with torch.no_grad():
        assert _equal(exported.eval()(batch), original(batch))
