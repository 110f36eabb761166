"""Small pictures of what the network does, sent after each epoch for the GUI to draw.

GANs: samples from fixed noise (images, 2-D points or vectors); autoencoders: inputs beside
their reconstructions and a 2-D latent scatter; character models: generated text; series
models: a few windows with their predictions. Sampling uses its own seeded generator, never
torch's global one, so it does not change the run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from engine.training.events import Samples
from engine.training.plan import Plan

GRID = 64        # images per grid
POINTS = 512     # points per scatter
TEXT_LENGTH = 160


def form_of(shape: tuple[int, ...]) -> str:
    if len(shape) == 3 and shape[0] in (1, 3):
        return "images"
    if shape == (2,):
        return "points"
    return "vectors"


def gan_samples(run: int, epoch: int, plan: Plan, generated: Any, real: Any) -> Samples:
    form = form_of(plan.networks[1].input_shape)
    count = POINTS if form == "points" else GRID
    return Samples(run, epoch=epoch, form=form, generated=_array(generated[:count]),
                   real=_array(real[:count]))


def autoencoder_samples(run: int, epoch: int, plan: Plan, model: Any, inputs: Any,
                        labels: Any | None) -> Samples:
    import torch

    model.eval()
    with torch.no_grad():
        outputs = model(inputs[:POINTS])
    reconstruction = outputs[0] if isinstance(outputs, tuple) else outputs
    latent = None
    if isinstance(outputs, tuple) and len(outputs) > 1 and outputs[1].shape[1:] == (2,):
        latent = _array(outputs[1])
    form = form_of(plan.networks[0].input_shape)
    count = 16
    return Samples(run, epoch=epoch, form=form, inputs=_array(inputs[:count]),
                   outputs=_array(reconstruction[:count]), latent=latent,
                   latent_labels=_array(labels[:POINTS]) if latent is not None and
                   labels is not None and labels.dim() == 1 else None)


def series_samples(run: int, epoch: int, model: Any, inputs: Any, targets: Any) -> Samples:
    import torch

    model.eval()
    with torch.no_grad():
        outputs = model(inputs[:4])
    predictions = outputs[0] if isinstance(outputs, tuple) else outputs
    return Samples(run, epoch=epoch, form="series", inputs=_array(inputs[:4]),
                   targets=_array(targets[:4]), outputs=_array(predictions))


def text_samples(run: int, epoch: int, plan: Plan, model: Any, prompt: Any,
                 vocabulary: list[str], seed: int) -> Samples:
    """Let a character model continue a validation window, sampling at temperature 0.8."""
    import torch

    model.eval()
    generator = torch.Generator(device=prompt.device).manual_seed(seed + epoch)
    window = prompt.clone()
    produced = []
    with torch.no_grad(), one_cpu_thread():
        for _ in range(TEXT_LENGTH):
            outputs = model(window.unsqueeze(0))
            logits = (outputs[0] if isinstance(outputs, tuple) else outputs)[0]
            if logits.dim() == 2:
                logits = logits[-1]
            probabilities = torch.softmax(logits.float() / 0.8, dim=-1)
            token = torch.multinomial(probabilities, 1, generator=generator)
            produced.append(int(token))
            window = torch.cat([window[1:], token])
    start = "".join(vocabulary[i] for i in prompt.tolist())
    return Samples(run, epoch=epoch, form="text",
                   text=start + "".join(vocabulary[i] for i in produced))


@contextmanager
def one_cpu_thread() -> Iterator[None]:
    """Run torch's CPU operations on one thread, then give back the run's count.

    Generating text is many forward passes of one window each, in turn: every operation is
    too small to share between threads, and each waits at a barrier for all of them. On a
    busy machine a thread that is not scheduled stalls every operation: the 160 passes took
    5-16 s with two threads against 0.35 s with one (the GRU template, 2 cores shared),
    longer than the epoch's training beside them."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _array(tensor: Any) -> np.ndarray:
    return tensor.detach().float().cpu().numpy()
