"""What a run's data looks like, known without loading it: cheap enough for every check.

Each loading function of the portable code has a describer here that reads the same call's
arguments and gives the shape and kind of one sample, the number of samples and classes:
built-in sets from their settings, files from their headers (npz member headers, IDX headers,
a CSV's header and target column, an image folder's class folders, a text's alphabet). Files
are read with the checks loading makes (portable.file_checks), so a bad file is the same
DataError here as in a run; and what the samples take in memory once loaded (`held_data`),
so that data no machine could hold is refused before it is made. What is read from a file is remembered until the file changes
(its path, size and modification time). Nothing here imports torch.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.limits import byte_size
from engine.training.datacheck import DataFacts, unreadable
from engine.training.plan import Plan, Portable

if TYPE_CHECKING:
    import numpy as np

# The describers that read files import file_checks, data_rows and numpy where they do, so
# that checking a design on generated data (`neuralcanvas check`, every edit) loads none.

DIGITS_SAMPLES = 1797   # scikit-learn's digits set: 8x8 images of the digits 0 to 9
Files = dict[str, str]  # a data plan's file parameters ("path", "images", ...) -> paths


@dataclass(frozen=True)
class _Source:
    """All of a source's samples, before the validation split."""

    facts: DataFacts
    samples: int
    labels: tuple[str, ...] = ()   # the class names, where the source names them


@dataclass(frozen=True)
class HeldData:
    """The samples a run keeps in memory once loaded: how many, and the bytes they take."""

    samples: int
    bytes: int

    def describe(self) -> str:
        """'about 24 GB (2,147,483,647 samples of 12 bytes each)'."""
        each = byte_size(self.bytes // self.samples) if self.samples else "0 bytes"
        return f"about {byte_size(self.bytes)} ({self.samples:,} samples of {each} each)"


@dataclass(frozen=True)
class Description:
    """One sample of a run's data as the run will see it (with the number of training
    samples), all the samples (before the validation split), what they take in memory, and
    the names of the classes."""

    facts: DataFacts
    held: HeldData
    samples: int
    labels: list[str] | None


def describe_data(plan: Plan) -> Description | None:
    """The plan's data described, or None for a source nothing here describes. Raises
    DataError, as loading would, when a file cannot be used."""
    source = _described(plan)
    if source is None:
        return None
    held_out = round(source.samples * plan.settings.data.validation_split)
    facts = source.facts
    each = (math.prod(facts.input_shape) * (8 if facts.input_is_ids else 4)
            + math.prod(facts.target_shape) * (8 if facts.target_is_ids else 4))
    # image folders are read batch by batch
    held = HeldData(source.samples, source.samples * each) if plan.data.in_memory else (
        HeldData(0, 0))
    labels = (list(source.labels) or [str(i) for i in range(plan.classes)]) if (
        plan.classes) else None
    return Description(replace(facts, train_samples=source.samples - held_out), held,
                       source.samples, labels)


def held_data(plan: Plan) -> HeldData:
    """What the plan's samples, training and validation, take in memory as the run holds
    them (float32 numbers, int64 ids). Raises DataError as `describe_data` does."""
    described = describe_data(plan)
    return described.held if described else HeldData(0, 0)


def _described(plan: Plan) -> _Source | None:
    for call in plan.data.calls:
        describer = _DESCRIBERS.get(call.function)
        if describer is not None:
            try:
                return describer(plan.data.files, **dict(call.kwargs))
            except Exception as err:  # noqa: BLE001 - whatever reading a file raises, name it
                raise unreadable(plan.data.source, plan.data.files, err) from None
    return None


# ---------------------------------------------------------------------------- built-in sets

def _teacher(files: Files, samples: int, input_shape: tuple[int, ...], id_count: int | None,
             target_shape: tuple[int, ...], classes: int, **_: Any) -> _Source:
    return _Source(DataFacts(input_shape, bool(id_count), target_shape, bool(classes),
                             "generated sample", classes=classes or None), samples)


def _digits(files: Files, as_images: bool) -> _Source:
    shape = (1, 8, 8) if as_images else (64,)
    return _Source(DataFacts(shape, False, (), True, "digits sample", classes=10),
                   DIGITS_SAMPLES)


def _waves(files: Files, samples: int, length: int, many_to_many: bool, **_: Any) -> _Source:
    target = (length, 1) if many_to_many else (1,)
    return _Source(DataFacts((length, 1), False, target, False, "wave window"), samples)


def _points(samples: int, classes: int, sample: str) -> _Source:
    return _Source(DataFacts((2,), False, (), True, sample, classes=classes), samples)


def _token_match(files: Files, samples: int, length: int, tokens: int, **_: Any) -> _Source:
    return _Source(DataFacts((length,), True, (), True, "token sequence", classes=2,
                             largest_input=tokens - 1), samples)


def _text(files: Files, length: int, stride: int, many_to_many: bool, samples: int) -> _Source:
    characters, alphabet = remembered_for(files["path"], _text_counts)
    windows = max(0, (characters - length - 1) // stride + 1)
    target = (length,) if many_to_many else ()
    return _Source(DataFacts((length,), True, target, True, "window of characters",
                             classes=len(alphabet), largest_input=len(alphabet) - 1),
                   min(windows, samples), alphabet)


def _text_counts(path: str) -> tuple[int, tuple[str, ...]]:
    """The number of characters of a UTF-8 text and its sorted alphabet (its vocabulary)."""
    text = Path(path).read_text(encoding="utf-8")
    return len(text), tuple(sorted(set(text)))


# ---------------------------------------------------------------------------- files

def _csv(files: Files, target: str, features: list[str] | None, classes: bool) -> _Source:
    path = files["path"]
    wanted, rows, names = remembered_for(path, _csv_columns, target,
                                          tuple(features or ()), classes)
    sample = f"row of {Path(path).name}"
    if classes:
        return _Source(DataFacts((wanted,), False, (), True, sample, classes=len(names)), rows,
                       names)
    return _Source(DataFacts((wanted,), False, (1,), False, sample), rows)


def _csv_columns(path: str, target: str, features: tuple[str, ...],
                 classes: bool) -> tuple[int, int, tuple[str, ...]]:
    """The number of feature columns and of rows, and with `classes` the class names (the
    distinct values of the target column, in the order of their ids), read one row at a
    time with loading's checks (whole rows, numbers where it needs them)."""
    from engine.training.portable import file_checks as checks

    wanted, target_at, _, rows = checks.checked_csv(path, target, features, classes)
    values, count = set(), 0
    for row in rows:
        if classes:
            values.add(row[target_at])
        count += 1
    return len(wanted), count, tuple(checks.sorted_classes(values))


def _npz(files: Files, x_key: str, y_key: str | None) -> _Source:
    import numpy as np

    from engine.training.data_rows import npz_checked
    from engine.training.portable import file_checks as checks

    path = files["path"]
    x_shape, x_dtype = remembered_for(path, _npz_shape, x_key)
    x_ids = np.issubdtype(x_dtype, np.integer)
    sample = f"{x_key!r} row of {Path(path).name}"
    largest_input = remembered_for(path, npz_checked, x_key) if x_ids else None
    if y_key is None:
        return _Source(DataFacts(x_shape[1:], x_ids, (1,), False, sample,
                                 largest_input=largest_input), x_shape[0])
    y_shape, y_dtype = remembered_for(path, _npz_shape, y_key)
    checks.check_same_rows(path, x_key, x_shape[0], y_key, y_shape[0])
    y_ids = np.issubdtype(y_dtype, np.integer)
    target = y_shape[1:] if y_ids or len(y_shape) > 1 else (1,)
    largest_target = remembered_for(path, npz_checked, y_key) if y_ids else None
    return _Source(DataFacts(x_shape[1:], x_ids, target, y_ids, sample,
                             largest_target=largest_target, largest_input=largest_input),
                   x_shape[0])


def _npz_shape(path: str, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """One array's shape and dtype, from its header alone."""
    from engine.training.portable import file_checks as checks

    with checks.open_npz(path) as arrays:
        return checks.npz_header(path, arrays, key)


def _idx(files: Files) -> _Source:
    images, labels = files["images"], files["labels"]
    image_shape = remembered_for(images, _idx_shape)
    largest = remembered_for(labels, _idx_largest)
    return _Source(DataFacts((1, *image_shape[1:]), False, (), True,
                             f"image of {Path(images).name}", largest_target=largest),
                   image_shape[0])


def _idx_shape(path: str) -> tuple[int, ...]:
    """The array shape in an IDX file's header (the MNIST format), gzip-compressed or not."""
    from engine.training.portable import file_checks as checks

    return checks.idx_header(path, checks.read_idx_bytes(path, checks.IDX_HEADER_BYTES))[0]


def _idx_largest(path: str) -> int:
    """The largest label in an IDX file of labels (read whole: one small number a label)."""
    from engine.training.portable import file_checks as checks

    labels = checks.read_idx_labels(path)
    return int(labels.max()) if labels.size else 0


def _image_folder(files: Files, size: tuple[int, int], grey: bool, **_: Any) -> _Source:
    classes, images = remembered_for(files["path"], _image_counts)
    shape = (1 if grey else 3, *size)
    return _Source(DataFacts(shape, False, (), True, "image", classes=len(classes)), images,
                   classes)


def _image_counts(path: str) -> tuple[tuple[str, ...], int]:
    """The class folders' names (sorted, as the loader orders the classes) and the number of
    images in them (names only; nothing is opened)."""
    from engine.training.portable import file_checks as checks

    checks.check_folder_links(Path(path))
    _, images = checks.image_folder_counts(path)
    return tuple(sorted(entry.name for entry in os.scandir(path) if entry.is_dir())), images


_DESCRIBERS: dict[Portable, Callable[..., _Source]] = {
    Portable.TEACHER_DATA: _teacher,
    Portable.DIGITS_DATA: _digits,
    Portable.WAVE_DATA: _waves,
    Portable.TWO_MOONS_DATA: lambda _, samples, **__: _points(samples, 2, "two-moons point"),
    Portable.SPIRAL_DATA: lambda _, samples, arms, **__: _points(samples, arms, "spiral point"),
    Portable.GAUSSIAN_RING_DATA: lambda _, samples, modes, **__: _points(samples, modes,
                                                                          "ring point"),
    Portable.TOKEN_MATCH_DATA: _token_match,
    Portable.TEXT_DATA: _text,
    Portable.CSV_DATA: _csv,
    Portable.NPZ_DATA: _npz,
    Portable.MNIST_IDX_DATA: _idx,
    Portable.IMAGE_FOLDER_DATA: _image_folder,
    Portable.IMAGE_FOLDER_TENSORS: _image_folder,
}


# ---------------------------------------------------------------------------- remembering

def remembered_for(path: str, read: Callable[..., Any], *args: Any) -> Any:
    """read(path, *args), read again only when the file (or folder) has changed."""
    return _remembered(read, str(path), _signature(path), args)


@lru_cache(maxsize=256)
def _remembered(read: Callable[..., Any], path: str, signature: tuple, args: tuple) -> Any:
    return read(path, *args)


def _signature(path: str) -> tuple:
    """What changes when a file or folder changes: size and modification time (a folder's
    and those of the folders in it, which change when files are added or removed)."""
    found = os.stat(path)
    if not os.path.isdir(path):
        return (found.st_size, found.st_mtime_ns)
    inner = sorted((entry.name, entry.stat().st_mtime_ns) for entry in os.scandir(path)
                   if entry.is_dir())
    return (found.st_mtime_ns, tuple(inner))
