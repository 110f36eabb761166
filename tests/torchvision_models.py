"""torchvision classifiers as the import tests and benchmarks/import_sizes.py build them: fresh
weights (nothing downloaded) and the smallest input each takes quickly, so the tests and the
benchmark measure the same models."""

import pytest
import torchvision
from torch import nn

# Input sizes other than 32: the architecture shrinks the image too far for less.
# MaxViT's attention partitions need 7 x 2**stage pixels at every stage; ViT is built for two by
# two patches of its patch size.
_INPUT_SIZES = {"alexnet": 64, "squeezenet1_0": 64, "googlenet": 64, "inception_v3": 80,
                "maxvit_t": 224, "vit_b_16": 32, "vit_l_16": 32, "vit_b_32": 64, "vit_l_32": 64,
                "vit_h_14": 28}
_NO_AUXILIARY_HEADS = {"aux_logits": False, "init_weights": False}
# Ten classes keep the large classifier layers small; auxiliary heads only train.
_KEYWORDS = {"vgg11": {"num_classes": 10}, "alexnet": {"num_classes": 10},
             "googlenet": _NO_AUXILIARY_HEADS, "inception_v3": _NO_AUXILIARY_HEADS,
             **{name: {"image_size": size} for name, size in _INPUT_SIZES.items()
                if name.startswith("vit_")}}


def build(name: str) -> nn.Module:
    """torchvision's model `name` with freshly initialised weights."""
    return torchvision.models.get_model(name, weights=None, **_KEYWORDS.get(name, {}))


def input_size(name: str) -> int:
    """The height and width of the square RGB images `name` is fed."""
    return _INPUT_SIZES.get(name, 32)


def marked_slow(names: tuple[str, ...], slow: set[str]) -> list:
    """`names` for pytest.mark.parametrize, those in `slow` marked slow."""
    return [pytest.param(name, marks=pytest.mark.slow) if name in slow else name
            for name in names]
