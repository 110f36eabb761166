"""Data sets that need no download: made from a seed or shipped with scikit-learn.

Each function returns (inputs, targets) holding every sample. The same arguments always give the
same samples, whatever the state of torch's random generator.
"""

from pathlib import Path

import numpy as np
import torch
from sklearn import datasets


def digits_data(as_images):
    """scikit-learn's 1,797 handwritten digits: 8x8 pixels scaled to [0, 1], labels 0-9."""
    digits = datasets.load_digits()
    pixels = torch.tensor(digits.images / 16.0, dtype=torch.float32)
    inputs = pixels.unsqueeze(1) if as_images else pixels.flatten(1)
    return inputs, torch.tensor(digits.target, dtype=torch.long)


def wave_data(samples, length, noise, wave, many_to_many, seed):
    """Noisy periodic signals, each with its own period and phase; the task is the next value.

    Many-to-one targets are the value after the window; many-to-many targets are the window
    shifted by one step.
    """
    rng = np.random.default_rng(seed)
    period = rng.uniform(8.0, 32.0, size=(samples, 1))
    phase = rng.uniform(0.0, 1.0, size=(samples, 1))
    cycles = np.arange(length + 1) / period + phase
    within = cycles % 1.0
    if wave == "sine":
        clean = np.sin(2.0 * np.pi * cycles)
    elif wave == "square":
        clean = np.where(within < 0.5, 1.0, -1.0)
    elif wave == "triangle":
        clean = 4.0 * np.abs(within - 0.5) - 1.0
    else:
        clean = 2.0 * within - 1.0
    series = clean + noise * rng.standard_normal(clean.shape)
    series = torch.tensor(series, dtype=torch.float32).unsqueeze(-1)
    if many_to_many:
        return series[:, :-1], series[:, 1:]
    return series[:, :-1], series[:, -1]


def two_moons_data(samples, noise, seed):
    """Two interleaved half circles, one class each."""
    points, labels = datasets.make_moons(samples, noise=noise, random_state=seed)
    return torch.tensor(points, dtype=torch.float32), torch.tensor(labels)


def spiral_data(samples, arms, noise, seed):
    """Interleaved spiral arms, one class each: hard for a straight line, easy for an MLP."""
    rng = np.random.default_rng(seed)
    labels = np.arange(samples) % arms
    radius = rng.uniform(0.05, 1.0, samples)
    angle = 4.0 * radius + 2.0 * np.pi * labels / arms
    angle += noise * rng.standard_normal(samples)
    points = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return torch.tensor(points, dtype=torch.float32), torch.tensor(labels)


def ring_centres(modes, radius):
    """The centres of the Gaussians of `gaussian_ring_data`."""
    angle = 2.0 * np.pi * np.arange(modes) / modes
    centres = radius * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return torch.tensor(centres, dtype=torch.float32)


def gaussian_ring_data(samples, modes, radius, std, seed):
    """Points from `modes` Gaussians evenly spaced on a circle; the target is the mode."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(modes, size=samples)
    noise = torch.tensor(std * rng.standard_normal((samples, 2)), dtype=torch.float32)
    return ring_centres(modes, radius)[labels] + noise, torch.tensor(labels)


def token_match_data(samples, length, tokens, seed):
    """Token sequences labelled 1 when the first token appears again later, else 0.

    Telling them apart means comparing positions far apart, which attention does in one step.
    Half of the samples are in each class.
    """
    rng = np.random.default_rng(seed)
    first = rng.integers(tokens, size=samples)
    rest = rng.integers(tokens - 1, size=(samples, length - 1))
    rest += rest >= first[:, None]
    labels = np.arange(samples) % 2
    positives = np.flatnonzero(labels)
    rest[positives, rng.integers(length - 1, size=len(positives))] = first[positives]
    sequences = np.concatenate([first[:, None], rest], axis=1)
    return torch.tensor(sequences), torch.tensor(labels)


def read_text(path):
    """A text file's characters and its sorted alphabet (the vocabulary of a character model)."""
    text = Path(path).read_text(encoding="utf-8")
    return text, sorted(set(text))


def text_data(text, vocabulary, length, stride, many_to_many, samples):
    """Up to `samples` windows of `length` character ids, `stride` characters apart; the
    target is the next character, or with `many_to_many` the next one at every position."""
    index = {character: i for i, character in enumerate(vocabulary)}
    ids = torch.tensor([index[character] for character in text])
    windows = ids.unfold(0, length + 1, stride)[:samples]
    if many_to_many:
        return windows[:, :-1], windows[:, 1:]
    return windows[:, :-1], windows[:, -1]


# Random numbers per stream: generated samples are drawn in blocks this large.
TEACHER_BLOCK = 4096

# The teacher's hidden values: its weights stay small whatever the input size.
TEACHER_WIDTH = 16


def teacher_data(samples, input_shape, id_count, target_shape, classes, seed):
    """Random inputs with targets from a fixed random function of them.

    Used when a design names no data: the samples have the right shapes and something to learn.
    `id_count` > 0 makes integer token inputs; `classes` > 0 makes class targets.
    """
    return teacher_samples(range(samples), input_shape, id_count, target_shape, classes, seed)


def teacher_samples(indices, input_shape, id_count, target_shape, classes, seed):
    """The samples of `teacher_data` at `indices`, made without the others (a preview shows
    a few of a set too large to make whole)."""
    rng = np.random.default_rng(seed)
    inputs = teacher_inputs(indices, input_shape, id_count, seed)
    count, size = len(inputs), int(np.prod(input_shape))
    if id_count:
        size *= 4
        features = rng.standard_normal((id_count, 4))[inputs].reshape(count, size)
    else:
        features = inputs.reshape(count, size)
    hidden = features @ rng.standard_normal((size, TEACHER_WIDTH), dtype=np.float32)
    outputs = int(np.prod(target_shape)) * max(classes, 1)
    weights = rng.standard_normal((TEACHER_WIDTH, outputs))
    scores = np.tanh(hidden @ weights / np.sqrt(size * TEACHER_WIDTH))
    if classes:
        targets = scores.reshape(count, *target_shape, classes).argmax(-1)
        return torch.tensor(inputs), torch.tensor(targets)
    targets = scores.reshape(count, *target_shape)
    return torch.tensor(inputs), torch.tensor(targets, dtype=torch.float32)


def teacher_inputs(indices, input_shape, id_count, seed):
    """The inputs at `indices`: each block of about TEACHER_BLOCK numbers comes from its own
    random stream (a child of `seed`), so any sample is made from its block alone."""
    per_block = max(1, TEACHER_BLOCK // int(np.prod(input_shape)))
    indices = np.asarray(indices, dtype=np.int64)
    inputs = np.empty((len(indices), *input_shape), np.int64 if id_count else np.float32)
    blocks = indices // per_block
    order = np.argsort(blocks, kind="stable")
    for group in np.split(order, np.flatnonzero(np.diff(blocks[order])) + 1):
        if not len(group):
            continue
        seeds = np.random.SeedSequence(seed, spawn_key=(int(blocks[group[0]]),))
        stream, shape = np.random.default_rng(seeds), (per_block, *input_shape)
        drawn = (
            stream.integers(id_count, size=shape)
            if id_count
            else stream.standard_normal(shape, dtype=np.float32)
        )
        inputs[group] = drawn[indices[group] % per_block]
    return inputs
