"""What a trained run's model makes of data, ready to draw: the first validation samples
(`predict_samples`) or a file the user picks (`predict_file`). The GUI calls these from a
helper process (designer.training.tasks), since they import torch. A message about a file's
contents quotes them as the data loader's messages do (portable.file_checks' `quoted`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.design import Design
from engine.errors import DesignError
from engine.runs import RunRecord, load_models, run_design
from engine.training.labels import setting_place
from engine.training.plan import NetworkIO
from engine.training.portable.file_checks import IMAGE_SUFFIXES, listed, quoted


@dataclass
class Prediction:
    """What a trained model made of some samples, ready to draw.

    form: "images", "points", "series", "vectors" or "text" (how `inputs`/`outputs` look);
    predicted and confidence: class ids and their probabilities (classification);
    targets: the true values or class ids when known; outputs: the model's (first) output.
    """

    task: str
    form: str
    source: str
    inputs: np.ndarray
    outputs: np.ndarray
    predicted: np.ndarray | None = None
    confidence: np.ndarray | None = None
    targets: np.ndarray | None = None
    labels: list[str] | None = None


def predict_samples(record: RunRecord, count: int = 32) -> Prediction:
    """Run the trained model on the first validation samples (training samples when the
    run kept none back); a GAN's generator makes `count` samples from fresh noise."""
    import torch

    design = run_design(record)
    plan, loaded = _plan_and_data(design)
    models = load_models(record, design)
    if plan.task == "gan":
        generator = models[plan.networks[0].network]
        noise = torch.randn(count, *plan.noise_shape,
                            generator=torch.Generator().manual_seed(plan.settings.seed))
        with torch.no_grad():
            made = _main(generator(noise))
        real = loaded.tensors["train"][:count]
        return Prediction(plan.task, _form(plan.networks[1].input_shape), "fresh noise",
                          real.numpy(), made.float().numpy())
    split = "val" if len(loaded.tensors["val"]) else "train"
    inputs = loaded.tensors[split][:count]
    targets = loaded.tensors[f"{split}_targets"][:count]
    prediction = _run(plan, models, inputs, f"{split} samples", loaded.labels)
    prediction.targets = targets.numpy()
    return prediction


def predict_file(record: RunRecord, path: str | Path) -> Prediction:
    """Run the trained model on a file: an image (for image models), or a .npy, .npz or
    .csv file of samples. A DesignError says what does not fit."""
    path = Path(path)
    design = run_design(record)
    plan, loaded = _plan_and_data(design)
    if plan.task == "gan":
        raise DesignError("a GAN's generator makes samples from noise; there is no file to "
                          "predict on (use 'Predict on samples')")
    inputs = file_samples(path, plan.networks[0], plan.settings.data, loaded.tensors["train"])
    return _run(plan, load_models(record, design), inputs, path.name, loaded.labels)


def file_samples(path: Path, io: NetworkIO, data: Any, training: Any) -> Any:
    """The samples of a file as a batch for the network `io` describes: an image (for image
    models; grey ones take the polarity of the `training` images), or a .npy, .npz or .csv
    file of samples (read with the data settings' key and columns). A DesignError says what
    does not fit."""
    import torch

    if not path.is_file():
        raise DesignError(f"there is no file {path}")
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        array = _image_sample(path, io.input_shape, training)
    elif suffix in (".npy", ".npz"):
        array = _array_samples(path, data.x_key)
    elif suffix == ".csv":
        array = _csv_samples(path, data)
    else:
        raise DesignError(f"{path.name}: cannot read samples from a {suffix or 'suffix-less'} file; "
                          f"choose an image, a .npy, .npz or .csv file")
    if array.ndim == len(io.input_shape):
        array = array[None]
    if tuple(array.shape[1:]) != tuple(io.input_shape):
        raise DesignError(f"{path.name} holds samples of shape {list(array.shape[1:])} but the "
                          f"Input of network {io.network!r} takes {list(io.input_shape)}")
    dtype = torch.long if io.input_dtype == "long" else torch.float32
    return torch.as_tensor(np.ascontiguousarray(array)).to(dtype)


def _plan_and_data(design: Design):
    import torch

    from engine.checking import check
    from engine.training.data import load_data
    from engine.training.plan import make_plan
    from engine.training.settings import settings_from

    report = check(design)
    plan = make_plan(design, settings_from(design.training), report)
    if not plan.data.in_memory:
        raise DesignError("predictions read samples held in memory; this run's data "
                          f"({plan.data.source}) streams from disk: predict on a file instead")
    return plan, load_data(plan, design, torch.device("cpu"))


def _run(plan, models: dict[str, Any], inputs, source: str,
         labels: list[str] | None) -> Prediction:
    import torch

    model = models[plan.networks[0].network]
    with torch.no_grad():
        outputs = _main(model(inputs)).float()
    form = _form(plan.networks[0].input_shape)
    if plan.evaluation == "classification":
        probabilities = torch.softmax(outputs, dim=-1)
        confidence, predicted = probabilities.max(dim=-1)
        return Prediction(plan.task, form, source, inputs.numpy(), outputs.numpy(),
                          predicted.numpy(), confidence.numpy(), labels=labels)
    return Prediction(plan.task, form, source, inputs.numpy(), outputs.numpy())


def _main(outputs: Any) -> Any:
    return outputs[0] if isinstance(outputs, tuple) else outputs


def _form(shape: tuple[int, ...]) -> str:
    if len(shape) == 3 and shape[0] in (1, 3):
        return "images"
    if len(shape) == 2:
        return "series"
    if tuple(shape) == (2,):
        return "points"
    return "vectors"


def _image_sample(path: Path, shape: tuple[int, ...], training: Any) -> np.ndarray:
    """A picture as the model's input: its channels and size, values in [0, 1]; grey
    pictures take the polarity of the training images (light ink on dark, or the reverse)."""
    from PIL import Image, UnidentifiedImageError

    if len(shape) != 3 or shape[0] not in (1, 3):
        raise DesignError(f"{path.name} is a picture but the model takes samples of shape "
                          f"{list(shape)}, not images; choose a .npy, .npz or .csv file")
    channels, height, width = shape
    try:
        with Image.open(path) as image:
            picture = image.convert("L" if channels == 1 else "RGB").resize((width, height))
    except (OSError, UnidentifiedImageError) as err:
        raise DesignError(f"{path.name} cannot be read as an image: {err}") from None
    pixels = np.asarray(picture, dtype=np.float32) / 255.0
    if channels == 1:
        pixels = pixels[None]
        trained_dark = float(training.float().mean()) < 0.5
        if trained_dark != (float(pixels.mean()) < 0.5):
            pixels = 1.0 - pixels
    else:
        pixels = pixels.transpose(2, 0, 1)
    return pixels


def _array_samples(path: Path, key: str) -> np.ndarray:
    try:
        if path.suffix.lower() == ".npy":
            return np.load(path, allow_pickle=False)
        with np.load(path, allow_pickle=False) as stored:
            if key not in stored.files:
                raise DesignError(f"{path.name} has no array {quoted(key)}; it has "
                                  f"{listed(stored.files)} (set "
                                  f"{setting_place('data.x_key')})")
            return stored[key]
    except (OSError, ValueError) as err:
        raise DesignError(f"{path.name} cannot be read as NumPy data: {err}") from None


def _csv_samples(path: Path, data: Any) -> np.ndarray:
    """The feature columns the run trained on (every column but the target by default)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as stream:
            rows = list(csv.reader(stream))
    except (OSError, UnicodeError) as err:
        raise DesignError(f"{path.name} cannot be read: {err}") from None
    if len(rows) < 2:
        raise DesignError(f"{path.name} needs a header line and at least one row")
    header = rows[0]
    names = list(data.features or [n for n in header if n != data.target])
    missing = [n for n in names if n not in header]
    if missing:
        raise DesignError(f"{path.name} has no column {quoted(missing[0])}; it has "
                          f"{listed(header)}")
    values = []
    for line, row in enumerate(rows[1:], start=2):
        try:
            values.append([float(row[header.index(n)]) for n in names])
        except (ValueError, IndexError):
            raise DesignError(f"{path.name}, line {line}: the columns {', '.join(names)} must "
                              "hold numbers") from None
    return np.asarray(values, dtype=np.float32)

