"""One pass of training over mini-batches, as a generator that yields after every step.

The caller decides what happens between steps (logging, pausing, stopping). The values yielded
stay on the device, so nothing waits for the GPU until someone reads them.
"""

import torch
import torch.nn.functional as F
from torch import nn

from .processes import average_across_processes


def main_output(outputs):
    """The first output of a network that returns several (the one the loss is about)."""
    return outputs[0] if isinstance(outputs, tuple) else outputs


def classification_loss(logits, targets):
    """Cross-entropy over the last dimension, for one label per sample or per position."""
    return F.cross_entropy(logits.flatten(0, -2), targets.flatten())


def supervised_steps(model, optimizer, batches, loss_fn, clip_norm, amp, scaler):
    """Train on each (inputs, targets) batch in turn; yield {"loss": ...} after each step.

    `amp` is the autocast dtype (None for full precision), `scaler` a torch.amp.GradScaler
    (enabled for float16 only); `clip_norm` 0 means no gradient clipping.
    """
    model.train()
    for inputs, targets in batches:
        with torch.autocast(inputs.device.type, dtype=amp, enabled=amp is not None):
            loss = loss_fn(main_output(model(inputs)), targets)
        backward_and_step(loss, model, optimizer, clip_norm, scaler)
        scaler.update()
        yield {"loss": loss.detach()}


def backward_and_step(loss, model, optimizer, clip_norm, scaler):
    """Backpropagate `loss` and step `model`'s optimizer, first clipping the gradients' norm
    to `clip_norm` when it is set (unscaled, so the limit means the same under float16)."""
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if clip_norm:
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
    scaler.step(optimizer)


def autoencoder_steps(model, optimizer, batches, loss_fn, clip_norm, amp, scaler):
    """Train a network to give back its input: each batch is its own target."""
    pairs = ((inputs, inputs) for inputs, *_ in batches)
    return supervised_steps(model, optimizer, pairs, loss_fn, clip_norm, amp, scaler)


def gan_steps(
    models,
    optimizers,
    batches,
    noise_shape,
    d_steps,
    clip_norm,
    amp,
    scaler,
):
    """Train the discriminator on every batch and the generator after every `d_steps`
    (`clip_norm` as in `supervised_steps`, for each network).

    The generator uses the non-saturating loss: it maximises log D(G(z)) instead of
    minimising log(1 - D(G(z))), which gives it strong gradients while it is still poor.
    """
    generator, discriminator = models
    g_optimizer, d_optimizer = optimizers
    generator.train()
    discriminator.train()
    for step, (real, *_) in enumerate(batches, start=1):
        train_generator = step % d_steps == 0
        noise = torch.randn(len(real), *noise_shape, device=real.device)
        with torch.autocast(real.device.type, dtype=amp, enabled=amp is not None):
            with torch.set_grad_enabled(train_generator):
                fake = main_output(generator(noise))
            # One pass over real and fake together (DistributedDataParallel needs one).
            scores = main_output(discriminator(torch.cat([real, fake.detach()])))
            real_scores, fake_scores = scores[: len(real)], scores[len(real) :]
            real_loss = adversarial_loss(real_scores, True)
            d_loss = real_loss + adversarial_loss(fake_scores, False)
        backward_and_step(d_loss, discriminator, d_optimizer, clip_norm, scaler)
        result = {
            "d_loss": d_loss.detach(),
            "d_real": torch.sigmoid(real_scores.detach().float()).mean(),
            "d_fake": torch.sigmoid(fake_scores.detach().float()).mean(),
        }
        if train_generator:
            with torch.autocast(real.device.type, dtype=amp, enabled=amp is not None):
                g_loss = adversarial_loss(main_output(discriminator(fake)), True)
            backward_and_step(g_loss, generator, g_optimizer, clip_norm, scaler)
            result["g_loss"] = g_loss.detach()
        scaler.update()
        yield result


def adversarial_loss(scores, real):
    """Binary cross-entropy of discriminator scores (logits) against "real" or "fake"."""
    target = torch.ones_like(scores) if real else torch.zeros_like(scores)
    return F.binary_cross_entropy_with_logits(scores, target)


def epoch_means(results):
    """Average each quantity the steps reported over the epoch (one device sync, here)."""
    collected = {}
    for result in results:
        for name, value in result.items():
            collected.setdefault(name, []).append(value)
    return {
        name: average_across_processes(torch.stack(values).mean()).item()
        for name, values in collected.items()
    }
