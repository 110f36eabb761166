"""Live diagnostics: the problems every deep-learning guide warns about, caught as they happen.

Each watcher looks at what the trainer already has (losses as they are reported, gradients
after a step, the epoch history, one batch's ReLU outputs) and returns Diagnostic events; none
of them changes the model or uses torch's random generator, so watching a run never changes it.

Problems cause each other: a learning rate far too high blows the loss up, which kills ReLUs
and leaves gradients vanished. `DiagnosticLog` keeps the causes and drops what they explain,
and `headline` picks the diagnostic a person should act on first (RANK), so the advice is
never the opposite of what helps.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from engine.fileformat import write_atomically
from engine.training.events import Diagnostic
from engine.training.labels import setting_place
from engine.training.settings import DiagnosticsSettings
from engine.wording import count_of

DIAGNOSTICS_FILE = "diagnostics.json"
# Most important first: the banner and the command line lead with the lowest rank.
RANK = ("non_finite_loss", "learning_rate_too_high", "exploding_gradients",
        "vanishing_gradients", "dead_relus", "learning_rate_too_low", "mode_collapse",
        "overfitting", "class_count", "precision")
# code -> the codes that explain it when raised first (its advice would then mislead).
CAUSED_BY = {"exploding_gradients": {"learning_rate_too_high"},
             "vanishing_gradients": {"learning_rate_too_high"},
             "dead_relus": {"learning_rate_too_high"},
             "learning_rate_too_low": {"learning_rate_too_high", "vanishing_gradients",
                                       "dead_relus"}}
DIVERGED_FACTOR = 10.0    # a loss this many times its first value has diverged
RISEN_FACTOR = 100.0      # ... or an epoch's loss this many times the lowest epoch so far
STALL_EPOCHS = 3          # after this many epochs ...
STALL_FALL = 0.05         # ... a loss that fell less than this fraction has barely moved
DEAD_FRACTION = 0.5       # a ReLU with more than this fraction of its units at zero is dead
# Why units that are off matter, and what to change (the run's warning and a probe's flag).
UNIT_FLAGS = {
    "dead": ("these ReLUs have died, get no gradient and will not learn again",
             ("lower the learning rate, use LeakyReLU or GELU instead of ReLU, or add "
              "BatchNorm before it")),
    "saturated": (("units stuck near a bound of a sigmoid or tanh pass almost no gradient "
                   "back, so they and the layers before them barely learn"),
                  ("normalise the inputs, add BatchNorm before the activation, or use a "
                   "ReLU-family activation in deep stacks")),
}
TYPICAL_RATES = {"adam": "1e-3", "adamw": "1e-3", "sgd": "0.01 to 0.1", "rmsprop": "1e-3"}


@dataclass(frozen=True)
class Layer:
    """A node whose module owns parameters: what a gradient norm is reported for."""

    network: str
    node: str
    name: str
    parameters: tuple[Any, ...]


def layers_of(model: Any, network: str, names: dict[str, str]) -> list[Layer]:
    """The model's layers with trainable parameters, in the model's order: one per module that
    holds parameters, so a block use reports each layer inside it (`layer1.0.conv1`, named from
    the block node's name and the path inside), each tied to the node whose module path is the
    longest prefix of its key (the block node, where the canvas shows it)."""
    node_of = getattr(model, "node_of_module", {})
    grouped: dict[str, list[Any]] = {}
    owners: dict[str, str] = {}
    for key, parameter in model.named_parameters():
        if parameter.requires_grad:
            module = key.rsplit(".", 1)[0] if "." in key else key
            owners.setdefault(module, _owning_module(key, node_of))
            grouped.setdefault(module, []).append(parameter)
    layers = []
    for module, params in grouped.items():
        owner = owners[module]
        node = node_of.get(owner, owner)
        name = names.get(node, owner) + module[len(owner):] if module.startswith(owner) else (
            names.get(node, module))
        layers.append(Layer(network, node, name, tuple(params)))
    return layers


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
            # by name: the layers inside one block node each have their own
            key_v, key_e = (layer["name"], "vanishing"), (layer["name"], "exploding")
            if state is None:
                self._flagged -= {key_v, key_e}
                continue
            if (layer["name"], state) in self._flagged:
                continue
            self._flagged.add((layer["name"], state))
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
            fix = (f"lower the learning rate, or set {setting_place('grad_clip')} "
                   "(for example to 1.0)")
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
                     f"{count_of(self.epochs, 'epoch')} (to {last['val_loss']:.4g}) while the "
                     f"training loss kept falling (to {last['loss']:.4g}); the network is "
                     "memorising its training samples"),
            fix=("add Dropout or weight decay, use more data or augmentation, or stop earlier "
                 f"({setting_place('early_stopping.enabled')} keeps the best weights)"),
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
                 f"({setting_place('gan.d_steps')}), or add noise or Dropout to the "
                 "discriminator"),
            epoch=epoch, data={"diversity": diversity, "d_accuracy": accuracy})]


def non_finite(run: int, name: str, step: int, epoch: int, checkpoint: str | None) -> Diagnostic:
    kept = f"; the last good checkpoint is {checkpoint}" if checkpoint else ""
    return Diagnostic(run, code="non_finite_loss", severity="error",
                      message=f"the {name} became NaN or infinite at step {step} (epoch "
                              f"{epoch}); training stopped{kept}",
                      fix=f"lower the learning rate, set {setting_place('grad_clip')}, or "
                          "check the data for extreme values",
                      epoch=epoch, step=step, data={"step": step})


@dataclass
class LossWatch:
    """The training loss against its first value: diverging (learning rate too high) or
    barely moving after STALL_EPOCHS epochs (learning rate too low). Each is said once."""

    lr: float
    optimizer: str
    run: int
    first: float | None = None
    _lowest: float = math.inf
    _said: set[str] = field(default_factory=set)

    def check_steps(self, losses: list[float], epoch: int, step: int) -> list[Diagnostic]:
        """Per-step losses as they are reported (the first one sets the baseline)."""
        if not losses:
            return []
        if self.first is None:
            self.first = losses[0]
        typical = sorted(losses)[len(losses) // 2]   # one wild step is not a trend
        if self.first > 0 and typical > DIVERGED_FACTOR * self.first:
            return self._too_high(max(losses), f"its first value {self.first:.3g}", epoch,
                                  step)
        return []

    def check_epoch(self, history: list[dict[str, float]]) -> list[Diagnostic]:
        """After each epoch: far above the first loss, risen by orders of magnitude, or not
        moved after STALL_EPOCHS epochs."""
        row = history[-1] if history else {}
        loss = row.get("loss")
        if loss is None or not math.isfinite(loss):
            return []
        epoch, first, found = int(row["epoch"]), self.first, []
        if first is not None and first > 0 and loss > DIVERGED_FACTOR * first:
            found = self._too_high(loss, f"its first value {first:.3g}", epoch, 0)
        elif 0 < self._lowest < math.inf and loss > RISEN_FACTOR * self._lowest:
            found = self._too_high(loss, f"its lowest epoch mean {self._lowest:.3g}", epoch, 0)
        elif (first is not None and first > 0 and len(history) >= STALL_EPOCHS
              and (first - loss) / first < STALL_FALL):
            found = self._too_low(loss, len(history), epoch)
        self._lowest = min(self._lowest, loss)
        return found

    def _too_high(self, loss: float, against: str, epoch: int, step: int) -> list[Diagnostic]:
        if "high" in self._said:
            return []
        self._said.add("high")
        return [Diagnostic(
            self.run, code="learning_rate_too_high", severity="error",
            message=(f"the loss is diverging: it reached {loss:.3g}, far above {against}; "
                     f"the learning rate ({self.lr:g}) is too high, so every step overshoots"),
            fix=(f"lower {setting_place('optimizer.lr')}: {self.optimizer} usually trains "
                 f"well at {TYPICAL_RATES.get(self.optimizer, '1e-3')}; then train again"),
            epoch=epoch, step=step, data={"loss": loss, "first": self.first, "lr": self.lr})]

    def _too_low(self, loss: float, epochs: int, epoch: int) -> list[Diagnostic]:
        if "low" in self._said:
            return []
        self._said.add("low")
        change = (loss - self.first) / self.first
        return [Diagnostic(
            self.run, code="learning_rate_too_low", severity="warning",
            message=(f"the loss has barely moved in {count_of(epochs, 'epoch')}: from "
                     f"{self.first:.4g} at the first step to {loss:.4g} ({change:+.1%}); the "
                     f"learning rate ({self.lr:g}) is probably too low"),
            fix=(f"raise {setting_place('optimizer.lr')} tenfold ({self.optimizer} usually "
                 f"trains well at {TYPICAL_RATES.get(self.optimizer, '1e-3')}); if the loss "
                 "still does not move, check that the targets can be learnt from the inputs"),
            epoch=epoch, data={"loss": loss, "first": self.first, "lr": self.lr})]


def relu_modules(model: Any) -> dict[str, Any]:
    """node id -> the ReLU module of each ReLU node (or nested ReLU) in a built model."""
    from torch import nn

    node_of = getattr(model, "node_of_module", {})
    return {node_of.get(path, path): module for path, module in model.named_modules()
            if isinstance(module, nn.ReLU)}


@contextmanager
def first_pass_dead_fractions(relus: dict[str, Any]) -> Iterator[dict[str, float]]:
    """node id -> the fraction of each ReLU's outputs that are zero for every sample of the
    first batch that passes through it within the block (a unit that never fires gets no
    gradient and never learns again). Measured on a pass the run makes anyway (validation,
    in eval mode without gradients), so it costs no forward pass of its own."""
    fractions: dict[str, float] = {}
    handles: dict[str, Any] = {}

    def hook(node: str):
        def record(_module, _inputs, output) -> None:
            if output.dim() > 1:
                fired = output.flatten(1).any(0)   # any unit not zero for some sample
                fractions[node] = 1.0 - fired.count_nonzero().item() / fired.numel()
                handles[node].remove()   # measured: the batches after it run hook-free
        return record

    for node, module in relus.items():
        handles[node] = module.register_forward_hook(hook(node))
    try:
        yield fractions
    finally:
        for handle in handles.values():
            handle.remove()


@dataclass
class DeadUnitWatch:
    """Warns once per ReLU when more than DEAD_FRACTION of its units never fire."""

    run: int
    names: dict[str, str]
    network: str
    _flagged: set[str] = field(default_factory=set)

    def unflagged(self, relus: dict[str, Any]) -> dict[str, Any]:
        """The ReLUs still worth measuring (none once every one was warned about)."""
        return {node: module for node, module in relus.items() if node not in self._flagged}

    def check(self, fractions: dict[str, float], epoch: int) -> list[Diagnostic]:
        found = []
        for node, dead in fractions.items():
            if dead <= DEAD_FRACTION or node in self._flagged:
                continue
            self._flagged.add(node)
            name = self.names.get(node, node)
            found.append(Diagnostic(
                self.run, code="dead_relus", severity="warning",
                message=(f"{dead:.0%} of the units of {name!r} output zero for every sample: "
                         f"{UNIT_FLAGS['dead'][0]}"),
                fix=UNIT_FLAGS["dead"][1],
                epoch=epoch, network=self.network, node=node, data={"dead": dead}))
        return found


@dataclass
class DiagnosticLog:
    """Every diagnostic a run raised, minus those an earlier one explains (CAUSED_BY)."""

    raised: list[Diagnostic] = field(default_factory=list)

    def admit(self, diagnostic: Diagnostic) -> bool:
        """Keep `diagnostic` unless a cause of it was raised already."""
        causes = CAUSED_BY.get(diagnostic.code, set())
        if any(earlier.code in causes for earlier in self.raised):
            return False
        self.raised.append(diagnostic)
        return True

    def write(self, folder: Path) -> None:
        """diagnostics.json in the run folder, whole or not at all."""
        text = json.dumps([d.asdict() for d in self.raised], indent=1, default=_plain)
        write_atomically(folder / DIAGNOSTICS_FILE, text, durable=False)


def headline(diagnostics: Iterable[Diagnostic]) -> Diagnostic | None:
    """The diagnostic to act on first: the best-ranked code, the latest among equals."""
    best, best_rank = None, len(RANK) + 1
    for diagnostic in diagnostics:
        rank = RANK.index(diagnostic.code) if diagnostic.code in RANK else len(RANK)
        if rank <= best_rank:
            best, best_rank = diagnostic, rank
    return best


def _plain(value: Any) -> Any:
    """JSON for the numpy and torch numbers a diagnostic's data may hold."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} cannot be written to {DIAGNOSTICS_FILE}")
