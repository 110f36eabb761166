"""Live diagnostics: the problems every deep-learning guide warns about, caught as they happen.

Each watcher looks at what the trainer already has (gradients after a step, the epoch
history) and returns Diagnostic events; none of them changes the model or uses torch's random
generator, so watching a run never changes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from engine.training.events import Diagnostic
from engine.training.settings import DiagnosticsSettings


@dataclass(frozen=True)
class Layer:
    """A node whose module owns parameters: what a gradient norm is reported for."""

    network: str
    node: str
    name: str
    parameters: tuple[Any, ...]


def layers_of(model: Any, network: str, names: dict[str, str]) -> list[Layer]:
    """The model's nodes with trainable parameters, in the model's order.

    Each parameter belongs to the node whose module path is the longest prefix of its key, so
    nested (imported) models such as `layer1.0.conv1.weight` are grouped per node.
    """
    node_of = getattr(model, "node_of_module", {})
    grouped: dict[str, list[Any]] = {}
    for key, parameter in model.named_parameters():
        if parameter.requires_grad:
            grouped.setdefault(_owning_module(key, node_of), []).append(parameter)
    return [Layer(network, node_of.get(path, path), names.get(node_of.get(path, path), path),
                  tuple(params)) for path, params in grouped.items()]


def _owning_module(key: str, node_of: dict[str, str]) -> str:
    """The longest module path in `node_of` that `key` lies under (else its first part)."""
    parts = key.split(".")
    for end in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in node_of:
            return prefix
    return parts[0]


def gradient_norms(layers: list[Layer]) -> list[dict[str, Any]]:
    """Each layer's gradient norm (None when it has no gradient yet), with one device sync."""
    import torch

    norms, present = [], []
    for layer in layers:
        grads = [p.grad for p in layer.parameters if p.grad is not None]
        present.append(bool(grads))
        if grads:
            norms.append(torch.linalg.vector_norm(
                torch.stack([torch.linalg.vector_norm(g.float()) for g in grads])))
    values = torch.stack(norms).tolist() if norms else []
    result, index = [], 0
    for layer, has in zip(layers, present, strict=True):
        norm = values[index] if has else None
        index += has
        result.append({"network": layer.network, "node": layer.node, "name": layer.name,
                       "norm": norm})
    return result


@dataclass
class GradientWatch:
    """Warns when a layer's gradient norm leaves the sane range, once per layer and state."""

    settings: DiagnosticsSettings
    run: int
    _flagged: set[tuple[str, str]] = field(default_factory=set)

    def check(self, layers: list[dict[str, Any]], epoch: int, step: int) -> list[Diagnostic]:
        found = []
        for layer in layers:
            norm = layer["norm"]
            if norm is None:
                continue
            state = ("vanishing" if norm < self.settings.vanishing else
                     "exploding" if not math.isfinite(norm) or norm > self.settings.exploding
                     else None)
            key_v, key_e = (layer["node"], "vanishing"), (layer["node"], "exploding")
            if state is None:
                self._flagged -= {key_v, key_e}
                continue
            if (layer["node"], state) in self._flagged:
                continue
            self._flagged.add((layer["node"], state))
            found.append(self._diagnostic(layer, state, norm, epoch, step))
        return found

    def _diagnostic(self, layer: dict[str, Any], state: str, norm: float, epoch: int,
                    step: int) -> Diagnostic:
        if state == "vanishing":
            message = (f"the gradient reaching {layer['name']!r} has almost vanished (norm "
                       f"{norm:.2g}): this layer has all but stopped learning")
            fix = ("use ReLU-family activations instead of sigmoid/tanh in deep stacks, add "
                   "BatchNorm or skip connections, or raise the learning rate")
        else:
            message = (f"the gradient of {layer['name']!r} is exploding (norm {norm:.3g}): "
                       "updates this large make training unstable")
            fix = "lower the learning rate, or set training.grad_clip (for example 1.0)"
        return Diagnostic(self.run, code=f"{state}_gradients", severity="warning",
                          message=message, fix=fix, epoch=epoch, step=step,
                          network=layer["network"], node=layer["node"],
                          data={"norm": norm, "bound": getattr(self.settings, state)})


@dataclass
class OverfitWatch:
    """Validation loss rising while training loss falls, for `overfit_epochs` epochs."""

    epochs: int
    run: int
    _warned_since: int | None = None

    def check(self, history: list[dict[str, float]]) -> list[Diagnostic]:
        rows = [r for r in history if "val_loss" in r and "loss" in r]
        if len(rows) <= self.epochs:
            return []
        recent = rows[-self.epochs - 1:]
        diverging = all(b["val_loss"] > a["val_loss"] and b["loss"] < a["loss"]
                        for a, b in pairwise(recent))
        if not diverging:
            self._warned_since = None
            return []
        since = int(recent[1]["epoch"])
        if self._warned_since is not None:
            return []
        self._warned_since = since
        last = rows[-1]
        return [Diagnostic(
            self.run, code="overfitting", severity="warning",
            message=(f"overfitting since epoch {since}: the validation loss has risen for "
                     f"{self.epochs} epochs (to {last['val_loss']:.4g}) while the training "
                     f"loss kept falling (to {last['loss']:.4g}); the network is memorising "
                     "its training samples"),
            fix=("add Dropout or weight decay, use more data or augmentation, or stop earlier "
                 "(training.early_stopping keeps the best weights)"),
            epoch=int(last["epoch"]), data={"since_epoch": since})]


@dataclass
class CollapseWatch:
    """A GAN whose samples all look alike (low diversity relative to the real data)."""

    below: float
    run: int
    _warned: bool = False

    def check(self, epoch: int, diversity: float, accuracy: float) -> list[Diagnostic]:
        if diversity >= self.below:
            self._warned = False
            return []
        if self._warned:
            return []
        self._warned = True
        return [Diagnostic(
            self.run, code="mode_collapse", severity="warning",
            message=(f"mode collapse: the generator's samples have become alike (diversity "
                     f"{diversity:.2f} of the real data's; the discriminator is right "
                     f"{accuracy:.0%} of the time)"),
            fix=("lower the generator's learning rate, give the discriminator more steps "
                 "(training.gan.d_steps), or add noise or Dropout to the discriminator"),
            epoch=epoch, data={"diversity": diversity, "d_accuracy": accuracy})]


def non_finite(run: int, name: str, step: int, epoch: int, checkpoint: str | None) -> Diagnostic:
    kept = f"; the last good checkpoint is {checkpoint}" if checkpoint else ""
    return Diagnostic(run, code="non_finite_loss", severity="error",
                      message=f"the {name} became NaN or infinite at step {step} (epoch "
                              f"{epoch}); training stopped{kept}",
                      fix="lower the learning rate, set training.grad_clip, or check the data "
                          "for extreme values",
                      epoch=epoch, step=step, data={"step": step})
