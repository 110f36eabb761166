"""Issue 17: a checkpoint every epoch costs about one torch.save, because once KEEP are kept
the oldest folder is emptied and written into instead of deleting one and making another;
what is listed is always whole, and nothing of a recycled checkpoint stays in the new one."""

from __future__ import annotations

import os

import torch

from engine.training.checkpoint import KEEP, latest_checkpoint, load_checkpoint, write_checkpoint


def write(folder, epoch, model, best=None):
    return write_checkpoint(folder, f"epoch-{epoch:04d}", {"model": model},
                            {"step": torch.tensor(epoch)}, {"epoch": epoch}, best)


def test_the_newest_are_kept_and_the_oldest_folder_is_reused(tmp_path):
    model = torch.nn.Linear(3, 2)
    write(tmp_path, 1, model)
    reused = os.stat(tmp_path / "epoch-0001").st_ino
    for epoch in range(2, KEEP + 3):
        write(tmp_path, epoch, model)
    assert sorted(os.listdir(tmp_path)) == [f"epoch-{e:04d}" for e in range(3, KEEP + 3)]
    assert os.stat(tmp_path / f"epoch-{KEEP + 1:04d}").st_ino == reused
    latest = load_checkpoint(latest_checkpoint(tmp_path))
    assert latest.record["epoch"] == int(latest.state["step"]) == KEEP + 2


def test_a_recycled_checkpoint_leaves_none_of_its_files_behind(tmp_path):
    model = torch.nn.Linear(3, 2)
    write(tmp_path, 1, model, best={"model": model.state_dict()})
    (tmp_path / "epoch-0001" / "stray").mkdir()   # whatever else was put in it
    for epoch in range(2, KEEP + 2):
        write(tmp_path, epoch, model)
    recycled = tmp_path / f"epoch-{KEEP + 1:04d}"
    assert sorted(os.listdir(recycled)) == ["model.safetensors", "record.json", "state.pt"]
    assert load_checkpoint(recycled).best == {}


def test_the_same_name_twice_keeps_the_newer(tmp_path):
    model = torch.nn.Linear(3, 2)
    for epoch in range(1, KEEP + 1):
        write(tmp_path, epoch, model)
    write_checkpoint(tmp_path, f"epoch-{KEEP:04d}", {"model": model},
                     {"step": torch.tensor(99)}, {"epoch": KEEP})
    assert len(os.listdir(tmp_path)) == KEEP
    assert int(load_checkpoint(tmp_path / f"epoch-{KEEP:04d}").state["step"]) == 99


def test_weights_are_saved_without_copies_yet_as_safetensors_needs():
    """Tied and channels-last weights are copied (safetensors refuses shared or strided
    tensors); plain ones are written as they are."""
    from engine.training.checkpoint import _plain_state

    conv = torch.nn.Conv2d(2, 3, 3).to(memory_format=torch.channels_last)
    linear = torch.nn.Linear(4, 4)
    state = {"conv": conv.weight, "linear": linear.weight, "tied": linear.weight,
             "row": linear.weight[1]}
    plain = _plain_state(state)
    assert plain["linear"].data_ptr() == linear.weight.data_ptr()
    for key in ("conv", "tied", "row"):
        assert plain[key].is_contiguous() and plain[key].equal(state[key])
        assert plain[key].data_ptr() != linear.weight.data_ptr()


def test_final_weights_link_to_a_checkpoint_of_the_same_step_and_outlive_its_recycling(
        tmp_path):
    """last/ costs no copy when the last checkpoint holds the same weights; recycling that
    checkpoint's folder later makes new files, so the linked weights stay as they were."""
    from safetensors.torch import load_file

    from engine.training.checkpoint import save_weights

    model = torch.nn.Linear(3, 2)
    checkpoint = write(tmp_path / "checkpoints", 1, model)
    final = tmp_path / "last" / "model.safetensors"
    save_weights(final, model.state_dict(), same_as=checkpoint / "model.safetensors")
    assert os.stat(final).st_ino == os.stat(checkpoint / "model.safetensors").st_ino
    before = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    for epoch in range(2, KEEP + 3):   # epoch-0001's folder is emptied and written into
        write(tmp_path / "checkpoints", epoch, model)
    assert not checkpoint.exists()
    assert torch.equal(load_file(final)["weight"], before)


def test_final_weights_are_written_where_no_link_can_be_made(tmp_path, monkeypatch):
    from safetensors.torch import load_file

    from engine.training.checkpoint import save_weights

    def cross_device(source, target):
        raise OSError(18, "Invalid cross-device link")

    model = torch.nn.Linear(3, 2)
    checkpoint = write(tmp_path / "checkpoints", 1, model)
    monkeypatch.setattr(os, "link", cross_device)
    final = tmp_path / "last" / "model.safetensors"
    save_weights(final, model.state_dict(), same_as=checkpoint / "model.safetensors")
    assert os.stat(final).st_ino != os.stat(checkpoint / "model.safetensors").st_ino
    assert torch.equal(load_file(final)["weight"], model.weight.detach())
    assert sorted(os.listdir(final.parent)) == ["model.safetensors"]
