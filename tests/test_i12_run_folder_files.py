"""What stands in a run folder in place of its own files (issue 12, audit of item 13): a named
pipe or a link to /dev/zero as summary.json, run.json or metrics.csv froze the app (a read
that waits for a writer, or never ends); a link out of the folder where weights or state.pt
belong. A run's files are read only when they are regular files of a run's size, and every
file a run folder names stays inside it."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from test_i12_data_files import _run_with_weights
from time_limit import time_limit

from engine.errors import DesignError
from engine.runs import RunRecord, RunStore, export_metrics_csv, read_metrics, read_step_curves
from engine.training.checkpoint import load_checkpoint


@pytest.fixture(autouse=True)
def no_hang():
    with time_limit(20, "reading a run's file"):
        yield


def _run(tmp_path: Path) -> RunRecord:
    record = _run_with_weights(tmp_path)
    (record.folder / "run.json").write_text(json.dumps({"name": "r", "status": "completed"}))
    (record.folder / "metrics.csv").write_text("epoch,loss\n1,0.5\n")
    return record


def _fifo(path: Path) -> None:
    path.unlink(missing_ok=True)
    os.mkfifo(path)


def _zero(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.symlink_to("/dev/zero")


READERS: dict[str, Callable[[RunRecord], object]] = {
    "summary.json": lambda record: record.weight_files(),
    "run.json": lambda record: RunStore(record.folder.parent).runs(),
    "metrics.csv": lambda record: read_metrics(record.folder),
    "steps.npz": lambda record: read_step_curves(record.folder),
}


@pytest.mark.parametrize("replace", [_fifo, _zero], ids=["named pipe", "/dev/zero link"])
@pytest.mark.parametrize("name", READERS)
def test_a_pipe_or_device_in_place_of_a_runs_file_reads_as_no_file(name, replace, tmp_path):
    record = _run(tmp_path)
    replace(record.folder / name)
    found = READERS[name](record)
    if name == "summary.json":   # the run's last weights, as without a summary
        assert found == {"model": record.folder / "last" / "model.safetensors"}
    else:
        assert not found


def test_exporting_metrics_that_are_a_pipe_says_so(tmp_path):
    record = _run(tmp_path)
    _fifo(record.folder / "metrics.csv")
    with pytest.raises(DesignError, match="metrics.csv cannot be read: .* not a regular file"):
        export_metrics_csv(record, tmp_path / "out.csv")


@pytest.mark.parametrize("member", ["record.json", "state.pt"])
@pytest.mark.parametrize("replace", [_fifo, _zero], ids=["named pipe", "/dev/zero link"])
def test_a_checkpoint_whose_files_are_pipes_or_devices_is_refused(member, replace, tmp_path):
    checkpoint = _run(tmp_path).latest_checkpoint()
    replace(checkpoint / member)
    with pytest.raises(DesignError, match="not a checkpoint|not a regular file|outside"):
        load_checkpoint(checkpoint)


@pytest.mark.parametrize("member", ["model.safetensors", "state.pt"])
def test_a_checkpoint_file_that_links_out_of_the_run_is_refused(member, tmp_path):
    checkpoint = _run(tmp_path).latest_checkpoint()
    (checkpoint / member).unlink()
    (checkpoint / member).symlink_to(tmp_path / "outside.safetensors")
    with pytest.raises(DesignError, match=f"'{member}', a link to .*outside.safetensors, "
                                          "outside"):
        load_checkpoint(checkpoint)


def test_summary_weights_that_link_out_of_the_run_are_refused_naming_the_link(tmp_path):
    record = _run(tmp_path)
    (record.folder / "summary.json").write_text(json.dumps(
        {"weights": {"model": "last/model.safetensors"}}))
    weights = record.folder / "last" / "model.safetensors"
    weights.unlink()
    weights.symlink_to("/etc/passwd")
    with pytest.raises(DesignError, match="'last/model.safetensors', a link to /etc/passwd, "
                                          "outside"):
        record.weight_files()
