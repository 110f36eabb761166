"""Checkpoints: a folder per save, written whole or not at all.

    checkpoints/epoch-0003/
        <network>.safetensors   weights (load with safetensors, keys as engine.build_model's)
        best-<network>.safetensors   the best epoch's weights, when early stopping keeps them
        state.pt                optimizer, schedule, grad scaler and random-generator states
                                (load with torch.load(weights_only=True))
        record.json             epoch, step, history, settings, best epoch, ...

The folder is written under a temporary name and renamed when complete, so a crash or a kill
of the training process mid-write leaves the previous checkpoint as it was (the files need no
fsync for that: the operating system keeps what a killed process wrote). Only the newest few
checkpoints are kept. A checkpoint is written every epoch, so it costs about what one
`torch.save` does: once `KEEP` are kept, the oldest folder is renamed out of the listing,
emptied and written into (see `_workspace`); a folder on its way out is likewise renamed
before it is deleted, so no half-written or half-deleted checkpoint is ever listed. Every
temporary name is a `.NAME.partial` folder, which readers skip and
`engine.run_files.remove_leftovers` removes after a kill.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import DesignError
from engine.run_files import open_run_file, read_run_text, writing_failed
from engine.run_paths import path_inside
from engine.training.plan import weights_file

FORMAT = "neuralcanvas.checkpoint"
KEEP = 3


@dataclass
class Checkpoint:
    """A checkpoint as loaded: `weights` and `best`: network -> state dict; `state` from
    state.pt."""

    path: Path
    record: dict[str, Any]
    weights: dict[str, dict[str, Any]] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    best: dict[str, dict[str, Any]] = field(default_factory=dict)


def write_checkpoint(folder: Path, name: str, models: dict[str, Any], state: dict[str, Any],
                     record: dict[str, Any], best: dict[str, dict] | None = None) -> Path:
    """Write `folder/name` atomically and prune older checkpoints; return its path.

    `models` maps network names to modules, `best` to state dicts of the best epoch.
    """
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    final = folder / name
    temporary = _workspace(folder, final)
    files = {network: weights_file(network) for network in models}
    best_files = {network: f"best-{weights_file(network)}" for network in best or {}}
    document = {"format": FORMAT, "version": 1, "weights": files, "best_weights": best_files,
                **record}
    writes = [*((temporary / files[n], lambda p, m=m: save_file(_plain_state(m.state_dict()), p))
                for n, m in models.items()),
              *((temporary / best_files[n], lambda p, w=w: save_file(_plain_state(w), p))
                for n, w in (best or {}).items()),
              (temporary / "state.pt", lambda p: torch.save(state, p)),
              (temporary / "record.json", lambda p: p.write_text(
                  json.dumps(document, allow_nan=True), encoding="utf-8"))]
    for path, write in writes:
        try:
            write(path)
        except Exception as err:   # a full disk, a folder made read-only: say which file
            failure = writing_failed(path, err)   # while the disk is still full
            shutil.rmtree(temporary, ignore_errors=True)
            raise failure from err
    if final.exists():   # a checkpoint asked for twice at the same step: the new one wins
        _delete(final)
    os.replace(temporary, final)
    for old in _completed(folder)[:-KEEP]:   # only when more were kept than KEEP
        _delete(old)
    return final


def save_weights(path: Path, state: dict[str, Any], same_as: Path | None = None) -> None:
    """One network's state dict as a .safetensors file, written beside and then renamed.

    `same_as` is a file known to hold exactly these weights (a checkpoint written at the same
    step): the new file is a hard link to it, which copies nothing and takes no disk space.
    Every writer here makes new files and never writes into an old one, so linked files never
    change under each other. Where no link can be made (another file system, one without
    links) the weights are written."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)   # a killed writer's
    if same_as is not None and _linked(same_as, partial):
        os.replace(partial, path)
        return
    try:
        save_file(_plain_state(state), partial)
    except Exception as err:   # as in write_checkpoint
        failure = writing_failed(path, err)
        partial.unlink(missing_ok=True)
        raise failure from err
    os.replace(partial, path)


def _linked(existing: Path, new: Path) -> bool:
    """Whether `new` could be made a hard link to `existing`."""
    try:
        os.link(existing, new)
    except OSError:
        return False
    return True


def load_checkpoint(path: str | os.PathLike) -> Checkpoint:
    """Read a checkpoint folder (or its record.json); a DesignError says what is wrong."""
    import torch
    from safetensors.torch import load_file

    folder = Path(path)
    if folder.name == "record.json":
        folder = folder.parent
    record_file = folder / "record.json"
    if not record_file.is_file():
        raise DesignError(f"{path} is not a checkpoint: it has no record.json (give a folder "
                          "such as out/checkpoints/epoch-0003)")
    try:
        record = json.loads(read_run_text(record_file))
    except (OSError, ValueError) as err:
        raise DesignError(f"{record_file} cannot be read: {err}") from None
    if record.get("format") != FORMAT:
        raise DesignError(f"{record_file} is not a NeuralCanvas checkpoint record")
    weights = {network: load_file(path_inside(folder, file, record_file))
               for network, file in record["weights"].items()}
    best = {network: load_file(path_inside(folder, file, record_file))
            for network, file in record.get("best_weights", {}).items()}
    try:
        with open_run_file(path_inside(folder, "state.pt", folder)) as stream:
            state = torch.load(stream, weights_only=True)
    except (OSError, RuntimeError, pickle.UnpicklingError) as err:
        raise DesignError(f"{folder / 'state.pt'} cannot be read: {err}") from None
    return Checkpoint(folder, record, weights, state, best)


def latest_checkpoint(folder: Path) -> Path | None:
    found = _completed(folder)
    return found[-1] if found else None


def _completed(folder: Path) -> list[Path]:
    """The complete checkpoints in `folder`, oldest first (their names sort by epoch)."""
    return sorted(Path(entry.path) for entry in os.scandir(folder)
                  if entry.is_dir() and not entry.name.startswith("."))


def _workspace(folder: Path, final: Path) -> Path:
    """The empty `.NAME.partial` folder to write `final` in: the oldest checkpoint emptied
    when `KEEP` are kept besides `final` (renamed first, which takes it out of the listing at
    once), else a new folder. Removing a folder, or overwriting or renaming over a file, makes
    some file systems (ext4) wait for the disk; making a file or renaming to a new name does
    not, so the new checkpoint's files are new files."""
    temporary = folder / f".{final.name}.partial"
    shutil.rmtree(temporary, ignore_errors=True)   # a killed writer's
    others = [path for path in _completed(folder) if path != final]
    if len(others) < KEEP:
        temporary.mkdir()
        return temporary
    os.replace(others[0], temporary)
    for entry in os.scandir(temporary):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            os.unlink(entry.path)
    return temporary


def _plain_state(state: dict[str, Any]) -> dict[str, Any]:
    """A state dict safetensors accepts: contiguous tensors that share no memory. Only the
    tensors that are not so already are copied (a network's weights seldom need it)."""
    import torch

    plain: dict[str, Any] = {}
    storages: set[int] = set()
    for key, value in state.items():
        value = value.detach()
        storage = value.untyped_storage()
        alone = (value.is_contiguous() and value.storage_offset() == 0
                 and value.nbytes == storage.nbytes() and storage.data_ptr() not in storages)
        if not alone:
            value = value.clone(memory_format=torch.contiguous_format)
        storages.add(value.untyped_storage().data_ptr())
        plain[key] = value
    return plain


def _delete(checkpoint: Path) -> None:
    """Out of the listing at once (a rename), then deleted."""
    going = checkpoint.with_name(f".{checkpoint.name}.old.partial")
    shutil.rmtree(going, ignore_errors=True)
    os.replace(checkpoint, going)
    shutil.rmtree(going, ignore_errors=True)
