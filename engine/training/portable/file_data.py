"""The user's own data: CSV files, image folders, MNIST-format IDX files, NumPy .npz files.

Problems with a file raise ValueError saying which file, where, and what to change.
"""

import csv
import gzip
import struct
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Subset
from torchvision import transforms
from torchvision.datasets import ImageFolder

from .batches import split_random

IMAGE_SUFFIXES = {".bmp", ".gif", ".jpeg", ".jpg", ".png", ".ppm", ".tif", ".webp"}


def read_csv(path):
    """The header and the rows of a CSV file, as text."""
    with open(path, newline="", encoding="utf-8-sig") as file:
        rows = list(csv.reader(file))
    if len(rows) < 2:
        raise ValueError(f"{path} needs a header line and at least one row of data")
    return rows[0], rows[1:]


def csv_data(path, target, features, classes):
    """Numeric `features` columns (default: all but the target) as inputs; the `target`
    column as class ids (`classes`: in the order of `csv_classes`) or as values."""
    header, rows = read_csv(path)
    features = features or [name for name in header if name != target]
    for name in [target, *features]:
        if name not in header:
            known = ", ".join(header)
            raise ValueError(f"{path} has no column {name!r}; it has {known}")
    for line, row in enumerate(rows, start=2):
        if len(row) != len(header):
            count = len(header)
            raise ValueError(f"{path}, line {line}: {len(row)} fields, not {count}")
    columns = [column_values(path, header, rows, name) for name in features]
    inputs = torch.tensor(list(zip(*columns)), dtype=torch.float32)
    if classes:
        names = csv_classes(path, target)
        labels = [row[header.index(target)] for row in rows]
        return inputs, torch.tensor([names.index(label) for label in labels])
    values = column_values(path, header, rows, target)
    return inputs, torch.tensor(values, dtype=torch.float32).unsqueeze(1)


def column_values(path, header, rows, name):
    """One column as numbers, or a ValueError naming the first cell that is not one."""
    index = header.index(name)
    values = []
    for line, row in enumerate(rows, start=2):
        try:
            values.append(float(row[index]))
        except ValueError:
            raise ValueError(
                f"{path}, line {line}: column {name!r} holds {row[index]!r}, which is not "
                "a number; leave this column out of the features or encode it as numbers"
            ) from None
    return values


def csv_classes(path, target):
    """The distinct values of the target column, in numeric order when they are numbers."""
    header, rows = read_csv(path)
    names = {row[header.index(target)] for row in rows}
    try:
        return sorted(names, key=float)
    except ValueError:
        return sorted(names)


def read_idx(path):
    """The array in an IDX file (the MNIST format), gzip-compressed or not."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as file:
        data = file.read()
    kinds = {8: np.uint8, 9: np.int8, 11: ">i2", 12: ">i4", 13: ">f4", 14: ">f8"}
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in kinds:
        raise ValueError(f"{path} is not an IDX file (no IDX header at its start)")
    shape = struct.unpack(f">{data[3]}I", data[4 : 4 + 4 * data[3]])
    array = np.frombuffer(data, dtype=kinds[data[2]], offset=4 + 4 * data[3])
    if array.size != np.prod(shape):
        raise ValueError(f"{path} is cut short: its header promises the shape {shape}")
    return array.reshape(shape)


def mnist_idx_data(images, labels):
    """Images (pixels scaled to [0, 1], one channel) and labels from a pair of IDX files."""
    pixels, digits = read_idx(images), read_idx(labels)
    if len(pixels) != len(digits):
        raise ValueError(
            f"{images} holds {len(pixels)} images but {labels} holds {len(digits)} "
            "labels; use the images and labels of the same set"
        )
    inputs = torch.tensor(pixels / 255.0, dtype=torch.float32).unsqueeze(1)
    return inputs, torch.tensor(digits, dtype=torch.long)


def npz_data(path, x_key, y_key):
    """Two arrays of a NumPy .npz file (no pickled objects); whole numbers become class or
    token ids, other numbers 32-bit floats (one target value per row becomes a column)."""
    with np.load(path, allow_pickle=False) as arrays:
        for key in (x_key, y_key):
            if key is not None and key not in arrays:
                raise ValueError(f"{path} has no array {key!r}; it has {arrays.files}")
        inputs = arrays[x_key]
        targets = arrays[y_key] if y_key is not None else np.zeros(len(inputs))
    if len(inputs) != len(targets):
        sizes = f"{x_key!r} has {len(inputs)} rows, {y_key!r} {len(targets)}"
        raise ValueError(f"{path}: {sizes}; they must match")
    if not np.issubdtype(targets.dtype, np.integer) and targets.ndim == 1:
        targets = targets[:, None]
    return as_tensor(inputs), as_tensor(targets)


def as_tensor(array):
    """Whole numbers as int64 (ids), anything else as float32."""
    if np.issubdtype(array.dtype, np.integer):
        return torch.tensor(array, dtype=torch.long)
    return torch.tensor(array, dtype=torch.float32)


def check_images(path):
    """Open every image once, so that a broken file stops the run before it starts."""
    folder = Path(path)
    for file in sorted(folder.rglob("*")):
        if file.suffix.lower() in IMAGE_SUFFIXES:
            try:
                with Image.open(file) as image:
                    image.verify()
            except (OSError, SyntaxError) as error:
                raise ValueError(
                    f"{file} cannot be read as an image ({error}); remove or replace it"
                ) from None


def image_folder_data(path, size, grey, normalize, augment, fraction, seed):
    """An image folder (one subfolder per class) as training and validation subsets.

    `augment` holds (flip, degrees, crop padding) for training images only.
    """
    check_images(path)
    flip, degrees, padding = augment
    prepare = [transforms.Resize(size)]
    if grey:
        prepare.append(transforms.Grayscale())
    finish = [transforms.ToTensor()]
    if normalize:
        imagenet = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
        finish.append(transforms.Normalize(*(([0.5], [0.5]) if grey else imagenet)))
    random = []
    if flip:
        random.append(transforms.RandomHorizontalFlip())
    if degrees:
        random.append(transforms.RandomRotation(degrees))
    if padding:
        random.append(transforms.RandomCrop(size, padding=padding))
    training = ImageFolder(path, transforms.Compose(prepare + random + finish))
    validation = ImageFolder(path, transforms.Compose(prepare + finish))
    order = torch.randperm(len(training), generator=torch.Generator().manual_seed(seed))
    count = round(len(training) * fraction)
    held_out, kept = order[:count].tolist(), order[count:].tolist()
    return Subset(training, kept), Subset(validation, held_out)


def image_folder_tensors(path, size, grey, normalize, fraction, seed):
    """Every image of an image folder in one tensor, with its class ids, split for
    validation (for tasks that need all samples in memory, such as GANs)."""
    images, _ = image_folder_data(path, size, grey, normalize, (False, 0, 0), 0.0, seed)
    inputs = torch.stack([image for image, _ in images])
    targets = torch.tensor([label for _, label in images])
    return split_random(inputs, targets, fraction, seed)
