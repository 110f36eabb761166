"""cnn: a neural network exported from NeuralCanvas.

A convolutional classifier for 8x8 digit images. Convolutions find local strokes
wherever they appear, pooling shrinks the image, and a Linear head turns the features
into ten digit scores.

The classes are plain PyTorch modules. Run this file to train them (`--help` lists the
options); it needs PyTorch, not NeuralCanvas.
"""

import argparse
import csv
import os
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from safetensors.torch import save_file
from sklearn import datasets
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data.distributed import DistributedSampler


class Model(nn.Module):
    """The model network of cnn."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(32)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(64)
        self.relu2 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.dropout = nn.Dropout(p=0.3)
        self.scores = nn.Linear(1024, 10)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        conv1 = self.conv1(image)
        bn1 = self.bn1(conv1)
        relu1 = self.relu1(bn1)
        conv2 = self.conv2(relu1)
        bn2 = self.bn2(conv2)
        relu2 = self.relu2(bn2)
        pool = self.pool(relu2)
        flatten = self.flatten(pool)
        dropout = self.dropout(flatten)
        scores = self.scores(dropout)
        return scores


def split_random(inputs, targets, fraction, seed):
    """Hold out a random `fraction` of the samples for validation (the same ones per seed)."""
    order = torch.randperm(len(inputs), generator=torch.Generator().manual_seed(seed))
    count = round(len(inputs) * fraction)
    held_out, kept = order[:count], order[count:]
    return inputs[kept], targets[kept], inputs[held_out], targets[held_out]


def tensor_batches(tensors, sampler, batch_size):
    """Mini-batches of in-memory tensors in the sampler's order, dropping an incomplete last one.

    Indexing the tensors directly is much faster than a DataLoader for data held in memory.
    """
    order = torch.tensor(list(sampler), device=tensors[0].device)
    for start in range(0, len(order) - batch_size + 1, batch_size):
        index = order[start : start + batch_size]
        yield tuple(tensor[index] for tensor in tensors)


def chunks(tensors, batch_size):
    """Every sample once, in order, `batch_size` at a time (for evaluation)."""
    for start in range(0, len(tensors[0]), batch_size):
        yield tuple(tensor[start : start + batch_size] for tensor in tensors)


def digits_data(as_images):
    """scikit-learn's 1,797 handwritten digits: 8x8 pixels scaled to [0, 1], labels 0-9."""
    digits = datasets.load_digits()
    pixels = torch.tensor(digits.images / 16.0, dtype=torch.float32)
    inputs = pixels.unsqueeze(1) if as_images else pixels.flatten(1)
    return inputs, torch.tensor(digits.target, dtype=torch.long)


@torch.no_grad()
def evaluate_classification(model, batches, classes):
    """Mean cross-entropy and the confusion matrix (rows: true class, columns: predicted)."""
    model.eval()
    loss_sum, confusion = 0.0, torch.zeros(classes, classes, dtype=torch.long)
    for inputs, targets in batches:
        logits = main_output(model(inputs)).flatten(0, -2).float()
        targets = targets.flatten()
        loss_sum += F.cross_entropy(logits, targets, reduction="sum")
        pairs = targets * classes + logits.argmax(1)
        confusion += torch.bincount(pairs, minlength=classes**2).view(classes, -1).cpu()
    return loss_sum.item() / confusion.sum().item(), confusion


def pick_device(name):
    """The named device, or for "auto" CUDA, then Apple's MPS, then the CPU."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def start_processes(device_name):
    """Return (rank, world size, device); under torchrun, join its process group first.

    torchrun sets LOCAL_RANK; each process then drives one GPU (NCCL) or shares the CPU (Gloo).
    """
    device = pick_device(device_name)
    if "LOCAL_RANK" not in os.environ:
        return 0, 1, device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size(), device


def average_across_processes(value):
    """The mean of a tensor over every torchrun process (the tensor itself without torchrun)."""
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(value)
        value = value / dist.get_world_size()
    return value


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


def parse_args():
    """Command-line options; the defaults are the design's training settings."""
    parser = argparse.ArgumentParser(
        description="Train Model on scikit-learn's handwritten digits (1x8x8 images).",
    )
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=32, help="samples per step")
    parser.add_argument("--lr", type=float, default=0.002, help="learning rate")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    parser.add_argument("--out", type=Path, default=Path("training_output"))
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def load_data(seed):
    """Scikit-learn's handwritten digits (1x8x8 images), with 20% held out for
    validation.
    """
    inputs, targets = digits_data(as_images=True)
    return split_random(inputs, targets, fraction=0.2, seed=seed)


def train(args):
    """Train, save and return the network; under torchrun every process trains on its
    share of each epoch.
    """
    rank, world_size, device = start_processes(args.device)
    splits = load_data(args.seed)
    x_train, y_train, x_val, y_val = (t.to(device) for t in splits)
    sampler = DistributedSampler(x_train, world_size, rank, seed=args.seed)
    torch.manual_seed(args.seed)
    model = Model().to(device)
    network = wrap_for_processes(model, world_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    # Mixed precision is off: the design trains in float32.
    amp = None
    scaler = torch.amp.GradScaler(device.type, enabled=False)
    log = args.out / "metrics.csv"
    if rank == 0:
        args.out.mkdir(parents=True, exist_ok=True)
        log.unlink(missing_ok=True)
    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)
        batches = tensor_batches((x_train, y_train), sampler, args.batch_size)
        lr = optimizer.param_groups[0]["lr"]
        steps = supervised_steps(
            network,
            optimizer,
            batches,
            loss_fn=classification_loss,
            clip_norm=0.0,
            amp=amp,
            scaler=scaler,
        )
        row = {"epoch": epoch, "lr": lr, **epoch_means(steps)}
        val_batches = chunks((x_val, y_val), args.batch_size)
        val_loss, confusion = evaluate_classification(model, val_batches, 10)
        accuracy = confusion.diag().sum() / confusion.sum()
        row.update(val_loss=val_loss, val_accuracy=accuracy.item())
        scheduler.step()
        if rank == 0:
            log_epoch(log, row)
    if rank == 0:
        save_file(model.state_dict(), args.out / "model.safetensors")
    if world_size > 1:
        dist.destroy_process_group()
    return model


def wrap_for_processes(model, world_size):
    """Under torchrun, wrap the model so that gradients are averaged across processes."""
    return DistributedDataParallel(model) if world_size > 1 else model


def log_epoch(path, row):
    """Print one epoch's results and append them to a CSV file."""
    print(", ".join(f"{key} {value:.4g}" for key, value in row.items()))
    with path.open("a", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(row))
        if file.tell() == 0:
            writer.writeheader()
        writer.writerow(row)


if __name__ == "__main__":
    train(parse_args())
