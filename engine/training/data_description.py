"""What a run's data looks like, known without loading it: cheap enough for every check.

Each loading function of the portable code has a describer here that reads the same call's
arguments and gives the shape and kind of one sample, the number of samples and classes:
built-in sets from their settings, files from their headers (npz member headers, IDX headers,
a CSV's header and target column, an image folder's class folders, a text's alphabet). What is
read from a file is remembered until the file changes (its path, size and modification time).
Nothing here imports torch.
"""

from __future__ import annotations

import csv
import gzip
import os
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from engine.training.datacheck import DataFacts
from engine.training.plan import Plan

DIGITS_SAMPLES = 1797   # scikit-learn's digits set: 8x8 images of the digits 0 to 9
IMAGE_SUFFIXES = {".bmp", ".gif", ".jpeg", ".jpg", ".png", ".ppm", ".tif", ".webp"}
IDX_KINDS = {8: np.uint8, 9: np.int8, 11: ">i2", 12: ">i4", 13: ">f4", 14: ">f8"}
Files = dict[str, str]  # a data plan's file parameters ("path", "images", ...) -> paths


class UnknownData(ValueError):
    """A data file that cannot be read far enough to describe it (loading it says why)."""


_UNREADABLE = (OSError, ValueError, EOFError, csv.Error, struct.error, zipfile.BadZipFile)


@dataclass(frozen=True)
class _Source:
    """All of a source's samples, before the validation split."""

    facts: DataFacts
    samples: int


def describe_data(plan: Plan) -> DataFacts | None:
    """One sample of the plan's data as the run will see it, or None for data generated to
    the design's shapes. Raises UnknownData when a file cannot be described."""
    for call in plan.data.calls:
        describer = _DESCRIBERS.get(call.function)
        if describer is not None:
            try:
                source = describer(plan.data.files, **dict(call.kwargs))
            except _UNREADABLE as err:
                raise UnknownData(f"the {plan.data.source} data cannot be described: "
                                  f"{err}") from None
            held_out = round(source.samples * plan.settings.data.validation_split)
            return replace(source.facts, train_samples=source.samples - held_out)
    return None


# ---------------------------------------------------------------------------- built-in sets

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
    characters, alphabet = _remembered_for(files["path"], _text_counts)
    windows = max(0, (characters - length - 1) // stride + 1)
    target = (length,) if many_to_many else ()
    return _Source(DataFacts((length,), True, target, True, "window of characters",
                             classes=alphabet, largest_input=alphabet - 1),
                   min(windows, samples))


def _text_counts(path: str) -> tuple[int, int]:
    """The number of characters of a UTF-8 text and of distinct ones (its vocabulary)."""
    text = Path(path).read_text(encoding="utf-8")
    return len(text), len(set(text))


# ---------------------------------------------------------------------------- files

def _csv(files: Files, target: str, features: list[str] | None, classes: bool) -> _Source:
    path = files["path"]
    header, rows, distinct = _remembered_for(path, _csv_columns, target)
    wanted = features or [name for name in header if name != target]
    if any(name not in header for name in [target, *wanted]):
        raise ValueError(f"{path} lacks a column the settings name")  # the run says which
    sample = f"row of {Path(path).name}"
    if classes:
        return _Source(DataFacts((len(wanted),), False, (), True, sample, classes=distinct),
                       rows)
    return _Source(DataFacts((len(wanted),), False, (1,), False, sample), rows)


def _csv_columns(path: str, target: str) -> tuple[list[str], int, int]:
    """A CSV's header, its number of rows and of distinct values in the target column,
    read one row at a time."""
    with open(path, newline="", encoding="utf-8-sig") as file:
        reader = csv.reader(file)
        header = next(reader, [])
        column = header.index(target) if target in header else None
        values, rows = set(), 0
        for row in reader:
            rows += 1
            if column is not None and column < len(row):
                values.add(row[column])
    return header, rows, len(values)


def _npz(files: Files, x_key: str, y_key: str | None) -> _Source:
    path = files["path"]
    headers = _remembered_for(path, _npz_headers)
    if x_key not in headers or (y_key is not None and y_key not in headers):
        raise ValueError(f"{path} lacks an array the settings name")  # the run says which
    x_shape, x_kind = headers[x_key]
    sample = f"{x_key!r} row of {Path(path).name}"
    largest_input = _remembered_for(path, _npz_largest, x_key) if x_kind == "i" else None
    if y_key is None:
        return _Source(DataFacts(x_shape[1:], x_kind == "i", (1,), False, sample,
                                 largest_input=largest_input), x_shape[0])
    y_shape, y_kind = headers[y_key]
    target = y_shape[1:] if y_kind == "i" or len(y_shape) > 1 else (1,)
    largest_target = _remembered_for(path, _npz_largest, y_key) if y_kind == "i" else None
    return _Source(DataFacts(x_shape[1:], x_kind == "i", target, y_kind == "i", sample,
                             largest_target=largest_target, largest_input=largest_input),
                   x_shape[0])


def _npz_headers(path: str) -> dict[str, tuple[tuple[int, ...], str]]:
    """Each array's shape and kind ('i' whole numbers, 'f' other numbers) from its header."""
    found = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if not member.endswith(".npy"):
                continue
            with archive.open(member) as stream:
                version = np.lib.format.read_magic(stream)
                read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                        else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read(stream)
            found[member[:-4]] = (tuple(shape), "i" if np.issubdtype(dtype, np.integer) else "f")
    return found


def _npz_largest(path: str, key: str) -> int:
    """The largest id in one whole-number array (class or token ids; read whole)."""
    with np.load(path, allow_pickle=False) as arrays:
        values = arrays[key]
    return int(values.max()) if values.size else 0


def _idx(files: Files) -> _Source:
    images, labels = files["images"], files["labels"]
    image_shape = _remembered_for(images, _idx_shape)
    largest = _remembered_for(labels, _idx_largest)
    return _Source(DataFacts((1, *image_shape[1:]), False, (), True,
                             f"image of {Path(images).name}", largest_target=largest),
                   image_shape[0])


def _idx_shape(path: str) -> tuple[int, ...]:
    """The array shape in an IDX file's header (the MNIST format), gzip-compressed or not."""
    with _open_idx(path) as file:
        return _idx_header(path, file)[0]


def _idx_largest(path: str) -> int:
    """The largest label in an IDX file of labels (read whole: one small number a label)."""
    with _open_idx(path) as file:
        _, kind = _idx_header(path, file)
        labels = np.frombuffer(file.read(), dtype=kind)
    return int(labels.max()) if labels.size else 0


def _open_idx(path: str):
    return gzip.open(path, "rb") if str(path).endswith(".gz") else open(path, "rb")


def _idx_header(path: str, file) -> tuple[tuple[int, ...], Any]:
    start = file.read(4)
    if len(start) < 4 or start[:2] != b"\0\0" or start[2] not in IDX_KINDS:
        raise ValueError(f"{path} is not an IDX file")
    return struct.unpack(f">{start[3]}I", file.read(4 * start[3])), IDX_KINDS[start[2]]


def _image_folder(files: Files, size: tuple[int, int], grey: bool, **_: Any) -> _Source:
    classes, images = _remembered_for(files["path"], _image_counts)
    shape = (1 if grey else 3, *size)
    return _Source(DataFacts(shape, False, (), True, "image", classes=classes), images)


def _image_counts(path: str) -> tuple[int, int]:
    """The number of class folders and of images in them (names only; nothing is opened)."""
    folders = sorted(entry.path for entry in os.scandir(path) if entry.is_dir())
    images = sum(1 for folder in folders for _, _, files in os.walk(folder)
                 for name in files if Path(name).suffix.lower() in IMAGE_SUFFIXES)
    if not images:
        raise ValueError(f"{path} holds no class folders of images")  # the run says so
    return len(folders), images


_DESCRIBERS: dict[str, Callable[..., _Source]] = {
    "digits_data": _digits,
    "wave_data": _waves,
    "two_moons_data": lambda _, samples, **__: _points(samples, 2, "two-moons point"),
    "spiral_data": lambda _, samples, arms, **__: _points(samples, arms, "spiral point"),
    "gaussian_ring_data": lambda _, samples, modes, **__: _points(samples, modes, "ring point"),
    "token_match_data": _token_match,
    "text_data": _text,
    "csv_data": _csv,
    "npz_data": _npz,
    "mnist_idx_data": _idx,
    "image_folder_data": _image_folder,
    "image_folder_tensors": _image_folder,
}


# ---------------------------------------------------------------------------- remembering

def _remembered_for(path: str, read: Callable[..., Any], *args: Any) -> Any:
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
