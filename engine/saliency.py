"""Which pixels drove an image classifier's prediction: a gradient saliency map of one sample.

The map is the plain gradient |d score / d input| of the predicted class's score (its logit,
before the softmax, so the other classes' scores do not mix in), the largest over the colour
channels, scaled to 0-255 (Simonyan, Vedaldi & Zisserman 2014). Plain gradients rather than
SmoothGrad, Integrated Gradients or Grad-CAM: one backward pass is cheap enough to run on
every click, the result is exact for the weights shown (no noise samples, no baseline image),
there are no hyperparameters to explain, and it works for any design, including those without
a last convolution for Grad-CAM to read.

Torch is imported inside the functions: the editor imports `why_no_saliency` to decide whether
to offer a map; the map itself is made in the helper process (designer.training.tasks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.errors import DesignError
from engine.on_first_use import ModuleOnFirstUse
from engine.runs import RunRecord, load_models, run_design

if TYPE_CHECKING:
    import numpy as np
else:   # the editor names these; only the helper process reads arrays
    np = ModuleOnFirstUse("numpy")


@dataclass
class Saliency:
    """One sample's saliency: `pixels` (H, W) uint8, 255 where the predicted class's score
    changes most per unit change of a pixel; `predicted` is that class's id."""

    pixels: np.ndarray
    predicted: int


def why_no_saliency(classifies: bool, input_shape: tuple[int, ...],
                    output_shape: tuple[int, ...]) -> str | None:
    """None for an image classifier (input (C, H, W), one score per class), else a one-line
    reason why its predictions have no saliency map."""
    if not classifies:
        return "saliency maps are for classifiers; this model does not predict classes"
    if len(input_shape) != 3:
        return (f"saliency maps are for image inputs (channels, height, width); this model "
                f"takes samples of shape {list(input_shape)}")
    if len(output_shape) != 1:
        return (f"saliency maps need one score per class; this model outputs "
                f"{list(output_shape)} per sample")
    return None


def gradient_saliency(model: Any, sample: Any) -> Saliency:
    """The saliency of one (C, H, W) float tensor for `model` (a torch module whose output,
    or first output, holds one score per class)."""
    import torch

    image = torch.as_tensor(sample, dtype=torch.float32).detach().clone()[None]
    image.requires_grad_(True)
    outputs = model(image)
    scores = outputs[0] if isinstance(outputs, tuple) else outputs
    predicted = int(scores[0].argmax())
    (gradient,) = torch.autograd.grad(scores[0, predicted], image)
    strength = gradient[0].abs().amax(dim=0)
    peak = float(strength.max())
    scaled = strength / peak * 255.0 if peak > 0 else strength
    return Saliency(scaled.round().to(torch.uint8).numpy(), predicted)


def run_saliency(record: RunRecord, sample: np.ndarray) -> Saliency:
    """The saliency of `sample` (one input of the run's model) for the run's trained weights.
    A DesignError says why when the run's model is not an image classifier."""
    from engine.checking import check
    from engine.training.plan import make_plan

    design = run_design(record)
    plan = make_plan(design, report=check(design))
    io = plan.networks[0]
    reason = why_no_saliency(plan.evaluation == "classification" and io.input_dtype == "float",
                             io.input_shape, io.output_shape)
    if reason:
        raise DesignError(reason)
    if tuple(np.shape(sample)) != tuple(io.input_shape):
        raise DesignError(f"the sample has shape {list(np.shape(sample))} but the Input of "
                          f"network {io.network!r} takes {list(io.input_shape)}")
    return gradient_saliency(load_models(record, design)[io.network], sample)
