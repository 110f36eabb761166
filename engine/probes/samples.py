"""The batch a probe runs: the chosen sample first, then more samples of the same source, so
that one forward pass shows the sample's activations and which units never fire at all.

The sample is an index into the design's own training data (for a GAN's generator: the seed
of its noise), an array of samples, or a file of them (an image, .npy, .npz or .csv, read as
Predict reads them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:   # numpy is imported where it is used: the editor starts without it
    import numpy as np

from engine.checking import Report
from engine.design import Design
from engine.errors import DesignError
from engine.training.plan import NetworkIO, Plan, make_plan
from engine.training.settings import settings_from

Sample: TypeAlias = "int | str | Path | np.ndarray"
POLARITY_SAMPLES = 16


@dataclass(frozen=True)
class ProbeBatch:
    """inputs: the network's one Input's batch, the probed sample first; source: where the
    sample came from, in words ("training sample 3 of 1437, class 7")."""

    inputs: Any
    source: str


def probe_batch(design: Design, network: str, sample: Sample, size: int,
                report: Report) -> ProbeBatch:
    """The batch for probing `network` on `sample`, at most `size` samples long."""
    import numpy as np

    plan = make_plan(design, settings_from(design.training), report)
    io = _network_io(design, network, plan)
    if isinstance(sample, np.ndarray):
        return _given(io, sample, size, "the given array")
    if isinstance(sample, (str, Path)):
        return _from_file(design, plan, io, Path(sample), size)
    if plan.task == "gan" and network == plan.networks[0].network:
        return _noise(plan, sample, size)
    return _training_samples(design, plan, sample, size)


def _network_io(design: Design, network: str, plan: Plan) -> NetworkIO:
    """What the plan knows of the network's Input; one Input only, since data feeds one."""
    inputs = [n for n in design.nodes(network) if design.node(n).type == "Input"]
    if len(inputs) != 1:
        names = ", ".join(design.node(n).name for n in inputs) or "none"
        raise DesignError(f"network {network!r} has {len(inputs)} Inputs ({names}); a probe "
                          "feeds one, from the data")
    for io in plan.networks:
        if io.network == network:
            return io
    trained = ", ".join(repr(io.network) for io in plan.networks)
    raise DesignError(f"network {network!r} is not trained on the design's data (the "
                      f"training settings train {trained}); probe one of those")


def _given(io: NetworkIO, array: np.ndarray, size: int, source: str) -> ProbeBatch:
    import numpy as np
    import torch

    if array.ndim == len(io.input_shape):
        array = array[None]
    if tuple(array.shape[1:]) != tuple(io.input_shape) or not len(array):
        raise DesignError(f"{source} holds samples of shape {list(array.shape[1:])} but the "
                          f"Input of network {io.network!r} takes {list(io.input_shape)}")
    dtype = torch.long if io.input_dtype == "long" else torch.float32
    inputs = torch.as_tensor(np.ascontiguousarray(array[:size])).to(dtype)
    return ProbeBatch(inputs, source if len(array) == 1 else f"the first sample of {source}")


def _from_file(design: Design, plan: Plan, io: NetworkIO, path: Path, size: int) -> ProbeBatch:
    from engine.prediction import file_samples

    batch = file_samples(path, io, plan.settings.data, _training_images(design, plan))[:size]
    return ProbeBatch(batch, path.name if len(batch) == 1 else f"the first sample of {path.name}")


def _noise(plan: Plan, seed: int, size: int) -> ProbeBatch:
    import torch

    noise = torch.randn(size, *plan.noise_shape, generator=torch.Generator().manual_seed(seed))
    return ProbeBatch(noise, f"noise drawn with seed {seed}")


def _training_samples(design: Design, plan: Plan, index: int, size: int) -> ProbeBatch:
    """Training sample `index` and the ones after it (wrapping round to the first)."""
    import torch

    loaded = _loaded(design, plan)
    count = loaded.counts[0]
    if not 0 <= index < count:
        raise DesignError(f"sample {index} is out of range: the training data holds {count} "
                          f"samples, numbered 0 to {count - 1}")
    picked = [(index + step) % count for step in range(min(size, count))]
    train = loaded.tensors["train"]
    if loaded.in_memory:
        inputs, target = train[picked], loaded.tensors["train_targets"][index]
    else:
        pairs = [train[i] for i in picked]
        inputs, target = torch.stack([image for image, _ in pairs]), pairs[0][1]
    return ProbeBatch(inputs, f"training sample {index} of {count}"
                      + _target_words(target, loaded.labels, plan))


def _target_words(target: Any, labels: list[str] | None, plan: Plan) -> str:
    """", class 7" for a classifier's sample (a sequence's targets are too long to say)."""
    if plan.task != "classification":
        return ""
    value = int(target)
    return f", class {labels[value] if labels and value < len(labels) else value}"


def _training_images(design: Design, plan: Plan) -> Any:
    """Some training samples (a grey picture takes their polarity: light ink on dark or the
    reverse); a few suffice where the data streams from disk."""
    import torch

    loaded = _loaded(design, plan)
    train = loaded.tensors["train"]
    if loaded.in_memory:
        return train
    return torch.stack([train[i][0] for i in range(min(len(train), POLARITY_SAMPLES))])


def _loaded(design: Design, plan: Plan) -> Any:
    import torch

    from engine.training.data import load_data

    return load_data(plan, design, torch.device("cpu"))
