"""Splitting samples for validation and cutting them into mini-batches."""

import numpy as np
import torch


def split_random(inputs, targets, fraction, seed):
    """Hold out a random `fraction` of the samples for validation (the same ones per seed)."""
    order = torch.randperm(len(inputs), generator=torch.Generator().manual_seed(seed))
    count = round(len(inputs) * fraction)
    held_out, kept = order[:count], order[count:]
    return inputs[kept], targets[kept], inputs[held_out], targets[held_out]


def split_in_order(inputs, targets, fraction):
    """Hold out the last `fraction` of the samples (text: validation is never trained on)."""
    cut = len(inputs) - round(len(inputs) * fraction)
    return inputs[:cut], targets[:cut], inputs[cut:], targets[cut:]


def tensor_batches(tensors, sampler, batch_size):
    """Mini-batches of in-memory tensors in the sampler's order, dropping an incomplete last one.

    Indexing the tensors directly is much faster than a DataLoader for data held in memory,
    and `index_select` is faster than `tensor[index]`. The order goes through numpy because
    `torch.tensor` reads a list of numbers one by one.
    """
    order = torch.from_numpy(np.fromiter(sampler, dtype=np.int64)).to(tensors[0].device)
    for start in range(0, len(order) - batch_size + 1, batch_size):
        index = order[start : start + batch_size]
        yield tuple(tensor.index_select(0, index) for tensor in tensors)


def chunks(tensors, batch_size):
    """Every sample once, in order, `batch_size` at a time (for evaluation)."""
    for start in range(0, len(tensors[0]), batch_size):
        yield tuple(tensor[start : start + batch_size] for tensor in tensors)


def image_layout(device):
    """The memory format for images and the weights that convolve them: channels-last on
    CUDA, whose tensor cores read images fastest with the channels innermost; elsewhere
    whatever format they have."""
    return torch.channels_last if device.type == "cuda" else torch.preserve_format


def standard_layout(model):
    """`model`'s weights in the standard (contiguous) layout, which safetensors saves."""
    return {key: value.contiguous() for key, value in model.state_dict().items()}


def to_device(tensor, device, layout=torch.preserve_format):
    """`tensor` on `device`, a batch of images (4-D) in `layout` (see `image_layout`). A copy
    from pinned memory runs while the GPU works (non_blocking)."""
    layout = layout if tensor.dim() == 4 else torch.preserve_format
    return tensor.to(device, non_blocking=True, memory_format=layout)


def on_device(batches, device, layout=torch.preserve_format):
    """Move each batch to the device as it is used (DataLoader batches start on the CPU)."""
    for batch in batches:
        yield tuple(to_device(tensor, device, layout) for tensor in batch)
