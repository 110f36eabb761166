"""The user's own data: CSV files, image folders, MNIST-format IDX files, NumPy .npz files.

Problems with a file raise ValueError saying which file, where, and what to change (the
checks in file_checks, which describing the data for the design check uses too).
"""

from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Subset
from torchvision import transforms
from torchvision.datasets import ImageFolder

from .batches import split_random
from .file_checks import (
    IMAGE_SUFFIXES,
    check_csv_row,
    check_finite,
    check_folder_links,
    check_same_rows,
    checked_csv,
    column_indices,
    csv_rows,
    csv_too_short,
    image_folder_counts,
    npz_array,
    open_npz,
    path_problem,
    read_idx,
    read_idx_labels,
    sorted_classes,
)


def read_csv(path):
    """The header and the rows of a CSV file, as text (every row as long as the header)."""
    rows = list(csv_rows(path))
    if len(rows) < 2:
        raise csv_too_short(path)
    for line, row in enumerate(rows[1:], start=2):
        check_csv_row(path, line, row, rows[0])
    return rows[0], rows[1:]


def csv_data(path, target, features, classes):
    """Numeric `features` columns (default: all but the target) as inputs; the `target`
    column as class ids (`classes`: in the order of `csv_classes`) or as values."""
    _, target_at, places, checked_rows = checked_csv(path, target, features, classes)
    rows = list(checked_rows)
    inputs = torch.tensor([[float(row[place]) for place in places] for row in rows],
                          dtype=torch.float32)
    if classes:
        ids = {name: index for index, name in enumerate(class_names(rows, target_at))}
        return inputs, torch.tensor([ids[row[target_at]] for row in rows])
    values = [float(row[target_at]) for row in rows]
    return inputs, torch.tensor(values, dtype=torch.float32).unsqueeze(1)


def csv_classes(path, target):
    """The distinct values of the target column, in numeric order when they are numbers."""
    header, rows = read_csv(path)
    return class_names(rows, column_indices(path, header, [target])[0])


def class_names(rows, index):
    """The distinct values of the column at `index`, in numeric order when they are numbers."""
    return sorted_classes({row[index] for row in rows})


def mnist_idx_data(images, labels):
    """Images (pixels scaled to [0, 1], one channel) and labels from a pair of IDX files."""
    pixels, digits = read_idx(images), read_idx_labels(labels)
    if not np.issubdtype(pixels.dtype, np.integer):
        check_finite(images, "the image array", pixels)
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
    with open_npz(path) as arrays:
        inputs = npz_array(path, arrays, x_key)
        if y_key is None:
            targets = np.zeros(len(inputs))
        else:
            targets = npz_array(path, arrays, y_key)
    check_same_rows(path, x_key, len(inputs), y_key, len(targets))
    if not np.issubdtype(targets.dtype, np.integer) and targets.ndim == 1:
        targets = targets[:, None]
    return as_tensor(inputs), as_tensor(targets)


def as_tensor(array):
    """Whole numbers as int64 (ids), anything else as float32."""
    if np.issubdtype(array.dtype, np.integer):
        return torch.tensor(array, dtype=torch.long)
    return torch.tensor(array, dtype=torch.float32)


def check_images(path):
    """Open every image once, so that a broken file stops the run before it starts (and
    nothing that is not a regular file, such as a named pipe, is ever opened)."""
    folder = Path(path)
    check_folder_links(folder)
    image_folder_counts(folder)
    for file in sorted(folder.rglob("*")):
        if file.suffix.lower() in IMAGE_SUFFIXES and not file.is_dir():
            problem = path_problem(file)
            if problem:
                raise ValueError(f"{problem}; remove or replace it")
            try:
                with Image.open(file) as image:
                    image.verify()
            except (OSError, SyntaxError, Image.DecompressionBombError) as error:
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
