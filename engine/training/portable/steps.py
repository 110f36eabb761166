"""One pass of training over mini-batches, as a generator that yields after every step.

The caller decides what happens between steps (logging, pausing, stopping). The values yielded
stay on the device, so nothing waits for the GPU until someone reads them. In float32 a step
is the plain forward, backward and optimizer step: no autocast and no gradient scaler.
"""

from contextlib import nullcontext

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


def mixed_precision(device, precision):
    """Return (autocast dtype, gradient scaler) for `precision` on `device`, or (None, None).

    Mixed precision runs on CUDA only: "bf16" and "fp16" autocast to that type, "auto" to
    bfloat16 where the GPU computes in it natively (not emulated), else float16. Float16's
    small gradients underflow, so it scales the loss (a GradScaler); bfloat16 has float32's
    range and needs none.
    """
    if device.type != "cuda" or precision == "fp32":
        return None, None
    if precision == "auto":
        native = torch.cuda.is_bf16_supported(including_emulation=False)
        precision = "bf16" if native else "fp16"
    if precision == "bf16":
        return torch.bfloat16, None
    return torch.float16, torch.amp.GradScaler(device.type)


def forward_precision(device, amp):
    """The forward pass's context: autocast to `amp`, or nothing at all in float32."""
    return torch.autocast(device.type, dtype=amp) if amp else nullcontext()


def supervised_steps(model, optimizer, batches, loss_fn, clip_norm, amp=None, scaler=None):
    """Train on each (inputs, targets) batch in turn; yield {"loss": ...} after each step.

    `amp` and `scaler` come from `mixed_precision` (None and None for float32);
    `clip_norm` 0 means no gradient clipping.
    """
    model.train()
    for inputs, targets in batches:
        with forward_precision(inputs.device, amp):
            loss = loss_fn(main_output(model(inputs)), targets)
        backward_and_step(loss, model, optimizer, clip_norm, scaler)
        if scaler is not None:
            scaler.update()
        yield {"loss": loss.detach()}


def backward_and_step(loss, model, optimizer, clip_norm, scaler=None):
    """Backpropagate `loss` and step `model`'s optimizer, first clipping the gradients' norm
    to `clip_norm` when it is set. A float16 `scaler` scales the loss up for the backward
    pass and the gradients back down before clipping, so the limit means the same."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
        clip_gradients(model, clip_norm)
        optimizer.step()
        return
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    clip_gradients(model, clip_norm)
    scaler.step(optimizer)


def clip_gradients(model, clip_norm):
    """Scale `model`'s gradients down to a total norm of `clip_norm` (0: leave them)."""
    if clip_norm:
        nn.utils.clip_grad_norm_(model.parameters(), clip_norm)


def autoencoder_steps(model, optimizer, batches, loss_fn, clip_norm, amp=None, scaler=None):
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
    amp=None,
    scaler=None,
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
        with forward_precision(real.device, amp):
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
            with forward_precision(real.device, amp):
                g_loss = adversarial_loss(main_output(discriminator(fake)), True)
            backward_and_step(g_loss, generator, g_optimizer, clip_norm, scaler)
            result["g_loss"] = g_loss.detach()
        if scaler is not None:
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
