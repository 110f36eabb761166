"""The first samples of a run's data, made or read without the rest (the Setup tab's preview
shows them): generated samples are made alone (portable.builtin_data.teacher_samples), file
rows are read from the start of the file. Each comes out as the run's loading gives it (the
same numbers, dtypes and shapes, before the validation split); sources without a reader here
give None.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from engine.training.data_description import Description, remembered_for
from engine.training.data_rows import idx_first_rows, npz_checked, npz_first_rows
from engine.training.datacheck import unreadable
from engine.training.plan import Name, Plan, Portable
from engine.training.portable import file_checks as checks

Samples = tuple[np.ndarray, np.ndarray]  # inputs and targets, one row per sample


def first_samples(plan: Plan, described: Description, count: int) -> Samples | None:
    """The data's first `count` samples, or None where no reader here makes them alone.
    Raises DataError, as loading would, when a file cannot be used."""
    for call in plan.data.calls:
        reader = _READERS.get(call.function)
        if reader is not None:
            names = {"seed": plan.settings.seed}
            arguments = {key: names[value.name] if isinstance(value, Name) else value
                         for key, value in call.kwargs}
            try:
                return reader(plan.data.files, described, count, **arguments)
            except Exception as err:  # noqa: BLE001 - whatever reading a file raises, name it
                raise unreadable(plan.data.source, plan.data.files, err) from None
    return None


def _teacher(files: dict[str, str], described: Description, count: int, samples: int,
             seed: Any, **shapes: Any) -> Samples:
    from engine.training.portable.builtin_data import teacher_samples

    inputs, targets = teacher_samples(range(min(count, samples)), seed=seed, **shapes)
    return inputs.numpy(), targets.numpy()


def _csv(files: dict[str, str], described: Description, count: int, target: str,
         features: list[str] | None, classes: bool, **_: Any) -> Samples:
    _, target_at, places, rows = checks.checked_csv(files["path"], target, features, classes)
    first = list(itertools.islice(rows, count))
    inputs = np.array([[float(row[place]) for place in places] for row in first], np.float32)
    if classes:
        ids = {name: index for index, name in enumerate(described.labels or ())}
        return inputs, np.array([ids[row[target_at]] for row in first], np.int64)
    return inputs, np.array([[float(row[target_at])] for row in first], np.float32)


def _npz(files: dict[str, str], described: Description, count: int, x_key: str,
         y_key: str | None, **_: Any) -> Samples:
    path = files["path"]
    for key in filter(None, (x_key, y_key)):
        remembered_for(path, npz_checked, key)  # every value checked, once per file version
    inputs = npz_first_rows(path, x_key, count)
    targets = np.zeros(len(inputs)) if y_key is None else npz_first_rows(path, y_key, count)
    if not np.issubdtype(targets.dtype, np.integer) and targets.ndim == 1:
        targets = targets[:, None]
    return _as_loaded(inputs), _as_loaded(targets)


def _as_loaded(array: np.ndarray) -> np.ndarray:
    """Whole numbers as int64 (ids), anything else as float32, as loading makes them."""
    return array.astype(np.int64 if np.issubdtype(array.dtype, np.integer) else np.float32)


def _idx(files: dict[str, str], described: Description, count: int, **_: Any) -> Samples:
    pixels = idx_first_rows(files["images"], count)
    if not np.issubdtype(pixels.dtype, np.integer):
        checks.check_finite(files["images"], "the image array", pixels)
    labels = idx_first_rows(files["labels"], count)
    return (pixels / 255.0).astype(np.float32)[:, None], labels.astype(np.int64)


_READERS: dict[Portable, Callable[..., Samples]] = {
    Portable.TEACHER_DATA: _teacher,
    Portable.CSV_DATA: _csv,
    Portable.NPZ_DATA: _npz,
    Portable.MNIST_IDX_DATA: _idx,
}
