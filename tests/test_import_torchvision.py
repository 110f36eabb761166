"""torchvision classifiers import as designs that compute exactly what they compute, and so
does the code exported from those designs, at any batch size."""

import pytest
import torch
import torchvision
from test_codegen_helpers import load_exported, ruff_problems, single_thread

from engine.codegen.export import export_script
from engine.importing import import_network

# (builder, input size): small inputs keep the test fast where the architecture allows.
ARCHITECTURES = {
    "resnet18": (torchvision.models.resnet18, 32),
    "vgg11": (lambda **kw: torchvision.models.vgg11(num_classes=10, **kw), 32),
    "alexnet": (lambda **kw: torchvision.models.alexnet(num_classes=10, **kw), 64),
    "mobilenet_v2": (torchvision.models.mobilenet_v2, 32),
    "densenet121": (torchvision.models.densenet121, 32),
    "shufflenet_v2_x0_5": (torchvision.models.shufflenet_v2_x0_5, 32),
    "mnasnet0_5": (torchvision.models.mnasnet0_5, 32),
    "regnet_x_400mf": (torchvision.models.regnet_x_400mf, 32),
    "mobilenet_v3_small": (torchvision.models.mobilenet_v3_small, 32),
    "efficientnet_b0": (torchvision.models.efficientnet_b0, 32),
    "squeezenet1_0": (torchvision.models.squeezenet1_0, 64),
    "googlenet": (lambda **kw: torchvision.models.googlenet(aux_logits=False, init_weights=False,
                                                            **kw), 64),
}

pytestmark = pytest.mark.usefixtures(single_thread.__name__)



def _equal(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.equal(a, b)


# Compared at full depth these take many seconds (densenet121's 121 layers: ~9 s quiet).
HEAVY = {"densenet121"}


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.slow) if name in HEAVY
                                  else name for name in ARCHITECTURES])
def test_torchvision_model_imports_builds_and_exports_faithfully(name, tmp_path):
    builder, size = ARCHITECTURES[name]
    torch.manual_seed(0)
    original = builder(weights=None).eval()
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
