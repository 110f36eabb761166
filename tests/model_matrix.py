"""Issue 15's import matrix: every torchvision classifier and segmentation model, a spread of
timm families and tiny Hugging Face transformers, each with the example it is imported on, and
the round trip they all go through (import -> build -> load the original's weights strictly ->
export -> run the export). tests/test_i15_matrix.py and benchmarks/import_matrix.py share it, so
the test and the benchmark measure the same models the same way.

Nothing downloads: torchvision and timm models are built with fresh weights
(weights=None, weights_backbone=None, pretrained=False) and Hugging Face models from configs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
import torchvision
from test_codegen_helpers import load_exported
from test_i15_importer import _flat
from torch import nn
from torchvision_models import build as build_torchvision
from torchvision_models import input_size

from engine.codegen.export import export_script
from engine.compiler import build_model
from engine.errors import DesignError
from engine.importing import import_network
from engine.importing.fixed_buffers import take_fixed_buffers

# The batch the import traces, and a different one the built and exported models are run on,
# so code that only works at the traced batch size is caught.
TRACED_BATCH, CHECKED_BATCH = 2, 3


@dataclass(frozen=True)
class Case:
    """One model of the matrix: how to build it, and its example input at a given batch size.
    `tolerance` is the largest absolute difference allowed between the original's and the
    round trip's outputs; 0 means they must be torch.equal."""

    family: str
    name: str
    build: Callable[[], nn.Module]
    example: Callable[[int], tuple[torch.Tensor, ...]]
    tolerance: float = 0.0

    @property
    def id(self) -> str:
        return f"{self.family}/{self.name}"


def _images(size: int | tuple[int, int], batch: int) -> tuple[torch.Tensor, ...]:
    height, width = (size, size) if isinstance(size, int) else size
    return (torch.randn(batch, 3, height, width),)


def _tokens(vocabulary: int, length: int, batch: int) -> tuple[torch.Tensor, ...]:
    return (torch.randint(0, vocabulary, (batch, length)),)


# torchvision: every classifier it registers, at the smallest input each accepts.
def _torchvision_classifiers() -> list[Case]:
    names = torchvision.models.list_models(module=torchvision.models)
    return [Case("torchvision", name, partial(build_torchvision, name),
                 partial(_images, input_size(name))) for name in names]


def _segmentation(name: str) -> nn.Module:
    return torchvision.models.get_model(name, weights=None, weights_backbone=None)


def _torchvision_segmentation() -> list[Case]:
    names = torchvision.models.list_models(module=torchvision.models.segmentation)
    return [Case("torchvision-segmentation", name, partial(_segmentation, name),
                 partial(_images, 32)) for name in names]


# timm: one or two models of each family the issue names, with the keyword arguments that
# shrink their input (image-size dependent position embeddings and attention biases).
_TIMM = {
    "vit_tiny_patch16_224": ({"img_size": 32}, 32),
    "deit_tiny_patch16_224": ({"img_size": 32}, 32),
    "deit_tiny_distilled_patch16_224": ({"img_size": 32}, 32),
    "convnext_atto": ({}, 32),
    "convnext_tiny": ({}, 32),
    "swin_tiny_patch4_window7_224": ({"img_size": 56}, 56),
    "efficientnet_b0": ({}, 32),
    "tf_efficientnet_b0": ({}, 32),
    "mobilenetv3_small_100": ({}, 32),
    "mobilenetv3_large_100": ({}, 32),
    "regnetx_002": ({}, 32),
    "regnety_002": ({}, 32),
    "resnet18d": ({}, 32),
    "resnet50d": ({}, 32),
    "densenet121": ({}, 32),
    "levit_128s": ({"img_size": 64}, 64),
    "mobilevit_xxs": ({}, 64),
    "mobilevitv2_050": ({}, 64),
}


def _timm(name: str) -> nn.Module:
    import timm

    return timm.create_model(name, pretrained=False, **_TIMM[name][0])


def _timm_models() -> list[Case]:
    return [Case("timm", name, partial(_timm, name), partial(_images, size))
            for name, (_, size) in _TIMM.items()]


# Hugging Face: tiny configs (two layers, width 32), no cache so forward returns tensors only.
_VOCABULARY, _LENGTH = 64, 8
_SMALL = {"vocab_size": _VOCABULARY}


def _hugging_face(name: str) -> nn.Module:
    import transformers as hf

    if name == "bert":
        return hf.BertModel(hf.BertConfig(hidden_size=32, num_hidden_layers=2,
                                          num_attention_heads=2, intermediate_size=64,
                                          max_position_embeddings=32, **_SMALL))
    if name == "gpt2":
        return hf.GPT2Model(hf.GPT2Config(n_embd=32, n_layer=2, n_head=2, n_positions=32,
                                          use_cache=False, **_SMALL))
    if name == "distilbert":
        return hf.DistilBertModel(hf.DistilBertConfig(dim=32, n_layers=2, n_heads=2,
                                                      hidden_dim=64,
                                                      max_position_embeddings=32, **_SMALL))
    if name == "vit":
        return hf.ViTModel(hf.ViTConfig(hidden_size=32, num_hidden_layers=2,
                                        num_attention_heads=2, intermediate_size=64,
                                        image_size=32, patch_size=8))
    if name == "t5-encoder":
        return hf.T5EncoderModel(hf.T5Config(d_model=32, d_kv=16, d_ff=64, num_layers=2,
                                             num_heads=2, use_cache=False, **_SMALL))
    raise ValueError(f"no tiny Hugging Face model {name!r}")


def _hugging_face_models() -> list[Case]:
    text = partial(_tokens, _VOCABULARY, _LENGTH)
    return [Case("huggingface", name, partial(_hugging_face, name),
                 partial(_images, 32) if name == "vit" else text)
            for name in ("bert", "gpt2", "distilbert", "vit", "t5-encoder")]


def matrix() -> list[Case]:
    """Every model of the matrix, family by family."""
    return [*_torchvision_classifiers(), *_torchvision_segmentation(), *_timm_models(),
            *_hugging_face_models()]


@dataclass
class Trip:
    """How a round trip went: "exact", "tolerance" (outputs within the case's tolerance),
    "differs" (outside it) or "refused" (the import's DesignError, in `refusal`).
    `difference` is the largest absolute difference of any output of the built or exported
    model from the original's."""

    status: str
    difference: float = 0.0
    refusal: str = ""
    problems: tuple[str, ...] = ()


def round_trip(case: Case, folder: Path | None = None) -> Trip:
    """Import `case`'s model, build the design and export it to Python; both take the
    original's state_dict strictly (less the modules forward never calls, which the import
    leaves out: T5's `shared`, tied to the encoder's embedding) and are compared with the original at another batch size.
    Any exception other than the import's DesignError propagates: it is a bug."""
    torch.manual_seed(0)
    original = case.build().eval()
    try:
        imported = import_network(original, case.example(TRACED_BATCH))
    except DesignError as error:
        return Trip("refused", refusal=str(error), problems=tuple(error.problems))
    design = imported.design
    with tempfile.TemporaryDirectory() as scratch:
        script = export_script(design)
        exported_class = load_exported(script.code, Path(folder or scratch))[
            script.classes["model"]]
        # Built on the meta device: both take the original's tensors as they are, so a large
        # model is neither initialised nor held twice. Buffers no state_dict carries are the
        # original's (tests/test_i15_buffers.py checks their inits remake them).
        with torch.device("meta"):
            candidates = [build_model(design), exported_class()]
        for candidate in candidates:
            candidate.load_state_dict(imported.state_dict, strict=True, assign=True)
            take_fixed_buffers(candidate, original, design)
        inputs = case.example(CHECKED_BATCH)
        with torch.no_grad():
            expected = _flat(original(*inputs))
            difference = max(_difference(expected, _flat(candidate.eval()(*inputs)))
                             for candidate in candidates)
    if difference == 0.0:
        return Trip("exact")
    return Trip("tolerance" if difference <= case.tolerance else "differs", difference)


def _difference(expected: list[torch.Tensor], actual: list[torch.Tensor]) -> float:
    """0.0 when every output is torch.equal to the expected one; inf when the outputs differ
    in number or shape; else the largest absolute difference."""
    if len(expected) != len(actual) or any(a.shape != b.shape for a, b in zip(expected,
                                                                               actual)):
        return float("inf")
    if all(torch.equal(a, b) for a, b in zip(expected, actual)):
        return 0.0
    return max(float((a.double() - b.double()).abs().max()) for a, b in zip(expected, actual))


def release_memory() -> None:
    """Free the last model now: its design and traced graph hold reference cycles, and glibc
    keeps freed blocks of a 600M-parameter model's size for reuse (without this a run through
    the matrix in one process peaks near twice the largest model's memory)."""
    gc.collect()
    libc = ctypes.util.find_library("c")
    if libc and hasattr(ctypes.CDLL(libc), "malloc_trim"):
        ctypes.CDLL(libc).malloc_trim(0)
