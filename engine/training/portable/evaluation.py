"""Validation measures for each kind of task, computed without gradients in eval mode."""

import torch
import torch.nn.functional as F

from .steps import main_output


@torch.no_grad()
def evaluate_classification(model, batches, classes):
    """Mean cross-entropy and the confusion matrix (rows: true class, columns: predicted)."""
    model.eval()
    losses, truths, guesses = [], [], []
    for inputs, targets in batches:
        logits = main_output(model(inputs)).flatten(0, -2).float()
        targets = targets.flatten()
        losses.append(F.cross_entropy(logits, targets, reduction="sum"))
        truths.append(targets)
        guesses.append(logits.argmax(1))
    pairs = torch.cat(truths) * classes + torch.cat(guesses)
    counts = torch.bincount(pairs, minlength=classes**2).cpu()
    loss = torch.stack(losses).sum().item()
    return loss / counts.sum().item(), counts.view(classes, classes)


@torch.no_grad()
def evaluate_regression(model, batches):
    """Mean squared error and mean absolute error over every predicted value."""
    model.eval()
    squared, absolute, count = 0.0, 0.0, 0
    for inputs, targets in batches:
        error = main_output(model(inputs)).float() - targets
        squared += error.square().sum()
        absolute += error.abs().sum()
        count += error.numel()
    return squared.item() / count, absolute.item() / count


def mean_image_error(train_inputs, val_inputs):
    """The squared error of always answering the mean training sample: the bar to beat."""
    return F.mse_loss(train_inputs.mean(0).expand_as(val_inputs), val_inputs).item()


def spread(samples):
    """The samples' mean pairwise distance: how varied they are."""
    return torch.pdist(samples.float().flatten(1)).mean()


@torch.no_grad()
def evaluate_gan(models, real, noise, real_spread):
    """The discriminator's accuracy on real and generated samples, and the generated samples'
    diversity: their `spread` relative to the real samples' (`real_spread`, the same every
    epoch; near 0: collapse).
    """
    generator, discriminator = models
    generator.eval()
    discriminator.eval()
    fake = main_output(generator(noise)).float()
    real_right = (main_output(discriminator(real)) > 0).float().mean()
    fake_right = (main_output(discriminator(fake)) <= 0).float().mean()
    diversity = spread(fake) / real_spread
    return ((real_right + fake_right) / 2).item(), diversity.item(), fake


def mode_coverage(points, centres, std):
    """How many modes the points cover, and the fraction of points within 3 std of a mode.

    A mode counts as covered when it holds at least a quarter of its fair share of points.
    """
    distance, nearest = torch.cdist(points, centres).min(dim=1)
    near = distance < 3 * std
    counts = torch.bincount(nearest[near], minlength=len(centres))
    covered = (counts >= len(points) / (4 * len(centres))).sum().item()
    return covered, near.float().mean().item()
