"""What every node of a network makes of one sample, as small pictures and statistics.

    probe(design, sample=3)                 # before training: the run's initial weights
    probe_for_worker(design.to_dict(), {"sample": 3})   # the same, in a helper process
    probe(design, sample=3, weights=run)    # a run's folder, or a .safetensors file
    watcher = NetworkProbe(design, network, report, batch)   # in a training worker:
    watcher.take(model, "epoch 2")                           # each epoch end, same sample

The result is plain data (numbers, strings, small uint8 arrays) that pickles into another
process and turns into JSON (`Probe.as_dict`); nothing in it holds torch. A probe runs one
forward pass in eval mode on a small batch whose first sample is the one shown; the rest of
the batch only tells which ReLU units never fire.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.checking import Report, check
from engine.design import Design
from engine.errors import DesignError
from engine.layers.base import BATCH, TensorInfo
from engine.layers.block_node import BLOCK_TYPE
from engine.probes.capture import Captured, NodeKey, Use, capture_outputs
from engine.probes.pictures import SMALL, Picture, PictureLimits, picture_of
from engine.probes.samples import ProbeBatch, Sample, probe_batch
from engine.probes.statistics import RELU_FAMILY, Statistics, bounds_of, statistics_of

BATCH_SIZE = 32   # samples a probe runs: enough to tell a dead unit from a quiet one


@dataclass(frozen=True)
class NodeProbe:
    """One output of one node. uses: the block uses (node id, copy) the node lies inside,
    () for a node of the network; out: which of the node's outputs; label: its name as code
    reads it ("layer1[1].conv1", "attention:weights"); layer: its type, or the block it
    uses; shape: as the check gives it ("N" the batch; a Parameter's has none)."""

    node: str
    uses: tuple[Use, ...]
    out: int
    label: str
    layer: str
    shape: tuple
    picture: Picture
    statistics: Statistics

    def as_dict(self) -> dict[str, Any]:
        return {"node": self.node, "uses": [list(use) for use in self.uses], "out": self.out,
                "label": self.label, "layer": self.layer, "shape": list(self.shape),
                "picture": self.picture.as_dict(), "statistics": self.statistics.as_dict()}


@dataclass(frozen=True)
class Probe:
    """Every node's output for one sample: network, source (the sample, in words), weights
    (which, in words), batch (samples run), nodes (in the order forward computes them, a
    block node before the nodes inside it)."""

    network: str
    source: str
    weights: str
    batch: int
    nodes: tuple[NodeProbe, ...]

    def find(self, node: str, out: int = 0, uses: tuple[Use, ...] = ()) -> NodeProbe:
        for probed in self.nodes:
            if (probed.node, probed.out, probed.uses) == (node, out, uses):
                return probed
        raise KeyError((node, out, uses))

    def as_dict(self) -> dict[str, Any]:
        return {"network": self.network, "source": self.source, "weights": self.weights,
                "batch": self.batch, "nodes": [node.as_dict() for node in self.nodes]}


class NetworkProbe:
    """Probes one network on one fixed batch, again and again (each epoch end of a run)."""

    def __init__(self, design: Design, network: str, report: Report, batch: ProbeBatch,
                 limits: PictureLimits = SMALL) -> None:
        self.design = design
        self.network = network
        self.report = report
        self.batch = batch
        self.limits = limits

    def take(self, model: Any, weights: str) -> Probe:
        """Probe `model` (built from the network; left in the mode it was in)."""
        inputs = self.batch.inputs.to(_device_of(model))
        training = model.training
        try:
            model.eval()
            captured = capture_outputs(self.design, self.network, model, [inputs], self.report)
        finally:
            model.train(training)
        nodes = tuple(probed for key, value in captured.items()
                      for probed in self._summaries(key, value))
        return Probe(self.network, self.batch.source, weights, len(inputs), nodes)

    def _summaries(self, key: NodeKey, captured: Captured) -> list[NodeProbe]:
        infos = _walk_of(self.report, key.uses).output_infos.get(key.node, ())
        names = self._output_names(captured)
        layer = (captured.params["block"] if captured.layer_type == BLOCK_TYPE
                 else captured.layer_type)
        bounds = bounds_of(captured.layer_type, captured.params)
        relu = captured.layer_type in RELU_FAMILY
        found = []
        for out, (value, info) in enumerate(zip(captured.outputs, infos, strict=True)):
            batched = _batched(info)
            sample = value[0] if batched else value
            label = self._label(key) + (f":{names[out]}" if len(names) > 1 else "")
            found.append(NodeProbe(
                key.node, key.uses, out, label, layer, info.shape,
                picture_of(sample, self.limits),
                statistics_of(sample, value if batched else None, bounds, relu)))
        return found

    def _output_names(self, captured: Captured) -> tuple[str, ...]:
        from engine.layers import get_layer

        return get_layer(captured.layer_type).outputs(captured.params)

    def _label(self, key: NodeKey) -> str:
        """The node's name inside the uses it lies in: "layer1[1].conv1" ([i] for a copy of
        a repeated block)."""
        parts = []
        for node, copy in key.uses:
            repeats = self.design.node(node).params.get("repeat", 1) != 1
            parts.append(self.design.node(node).name + (f"[{copy}]" if repeats else ""))
        return ".".join([*parts, self.design.node(key.node).name])


def probe(design: Design, network: str | None = None, sample: Sample = 0,
          weights: str | Path | None = None, batch: int = BATCH_SIZE,
          limits: PictureLimits = SMALL) -> Probe:
    """Probe `network` (by default the one the settings train; a GAN's generator) on
    `sample`, with `weights` (a .safetensors file or a run's folder) or, without, the initial
    weights a run of the design starts from. A DesignError says what does not fit."""
    import torch

    from engine.compiler import build_model
    from engine.probes.weights import load_weights
    from engine.training.plan import make_plan
    from engine.training.settings import settings_from

    report = check(design)
    settings = settings_from(design.training)
    plan = make_plan(design, settings, report)
    network = network or plan.networks[0].network
    if network not in design.networks:
        raise DesignError(f"there is no network {network!r}; the design has "
                          f"{', '.join(map(repr, design.networks))}")
    torch.manual_seed(settings.seed)   # as a run seeds its networks, built in the same order
    models = {io.network: build_model(design, io.network, report=report)
              for io in plan.networks}
    model = models.get(network) or build_model(design, network, report=report)
    described = f"initial weights (seed {settings.seed})"
    if weights is not None:
        described = str(load_weights(model, network, weights))
    chosen = probe_batch(design, network, sample, batch, report)
    return NetworkProbe(design, network, report, chosen, limits).take(model, described)


def probe_for_worker(design: dict[str, Any], options: dict[str, Any]) -> Probe:
    """`probe` for a helper process or a training-worker call: the design as its dict,
    `options` probe's keyword arguments (plain values, a PictureLimits)."""
    return probe(Design.from_dict(design), **options)


def _walk_of(report: Report, uses: tuple[Use, ...]) -> Any:
    """The check's walk of the scope the uses lead into (the report for the network)."""
    walk: Any = report
    for node, copy in uses:
        walk = walk.uses[node][copy]
    return walk


def _batched(info: TensorInfo) -> bool:
    return bool(info.shape) and info.shape[0] == BATCH


def _device_of(model: Any) -> Any:
    import torch

    tensor = next(iter(model.parameters()), None)
    if tensor is None:
        tensor = next(iter(model.buffers()), None)
    return tensor.device if tensor is not None else torch.device("cpu")
