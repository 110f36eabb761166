"""Issue 12, item 10: a process saving a design, a run's metrics, its run.json, curves,
summary and checkpoints in a loop is SIGKILLed at random moments, KILLS times; after every
kill each file is whole (it loads or parses, the newest checkpoint loads), and opening the
store leaves no temporary file behind.

A helper process imports everything once and forks one writer per kill, so a kill costs
milliseconds, not an interpreter's start; the writer is the code the app and the trainer use
(engine.save_design, RunStore/RunRecorder, engine.run_files, save_step_curves,
write_checkpoint).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import safetensors.torch  # noqa: F401 - imported once, before the writers are forked
import torch

from engine import load_design, save_design
from engine.run_files import LEFTOVER, add_metrics_row, write_summary
from engine.runs import RunRecorder, RunStore, read_metrics, read_step_curves, save_step_curves
from engine.training.checkpoint import latest_checkpoint, load_checkpoint, write_checkpoint
from engine.training.events import Started
from templates import load_template

KILLS = 200
ROOT = Path(__file__).resolve().parent.parent


def write_forever(store_folder: str, created: int) -> None:
    """One run's files, rewritten and appended to without end (the writer that is killed);
    one byte on the pipe `created` says the run exists."""
    store = RunStore(store_folder)
    record = store.create()
    os.write(created, b"+")
    recorder = RunRecorder(store, record)
    design = load_template("mlp")
    started = Started(1, task="classification", device="cpu", device_name="CPU", epochs=9,
                      batches_per_epoch=2, networks={"model": 10},
                      data={"description": "the kill test"})
    rows: list[dict] = []
    model = torch.nn.Linear(4, 2)
    for step in itertools.count(1):
        design.name = f"step {step}"
        save_design(design, record.folder / "design.ncnet")
        recorder.observe(started)
        rows = [] if step % 10 == 0 else rows   # a fresh file now and then: a rewrite
        rows.append({"epoch": step, "lr": 0.01, "loss": 1 / step}
                    | ({"val_loss": 2 / step} if step % 10 >= 5 else {}))   # a new column
        add_metrics_row(record.folder, rows)
        steps = np.arange(step, dtype=np.float64)
        save_step_curves(record.folder, {"loss": (steps, steps / 2)})
        write_summary(record.folder, {"status": "running", "epochs_done": step,
                                      "weights": {"model": record.folder / "last" /
                                                  "model.safetensors"}})
        write_checkpoint(record.folder / "checkpoints", f"epoch-{step:04d}", {"model": model},
                         {"step": torch.tensor(step)}, {"epoch": step})


def serve(store_folder: str) -> None:
    """For each line `DELAY WHEN` on stdin: fork a writer, kill it DELAY seconds after it
    starts (WHEN is `start`) or after its run exists (`created`), so that on a machine of any
    speed half the kills land in the run's files; answer `killed` once it is gone."""
    for line in sys.stdin:
        delay, when = line.split()
        created_read, created_write = os.pipe()
        child = os.fork()
        if child == 0:
            try:
                write_forever(store_folder, created_write)
            finally:
                os._exit(1)
        os.close(created_write)
        if when == "created":
            os.read(created_read, 1)
        os.close(created_read)
        time.sleep(float(delay))
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        print("killed", flush=True)


def check_whole(folder: Path) -> dict[str, int]:
    """Assert every file of the run in `folder` loads; count what the kill interrupted."""
    seen = {"cut_lines": 0, "checkpoints": 0}
    document = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert document["name"] and document["status"] in ("starting", "running")
    if (folder / "design.ncnet").exists():
        assert load_design(folder / "design.ncnet").name.startswith("step ")
    if (folder / "metrics.csv").exists():
        text = (folder / "metrics.csv").read_text(encoding="utf-8")
        lines = list(csv.reader(io.StringIO(text)))
        assert lines and lines[0][:3] == ["epoch", "lr", "loss"], text[:200]
        whole = lines if text.endswith("\n") else lines[:-1]
        seen["cut_lines"] = len(lines) - len(whole)
        assert all(len(row) == len(lines[0]) for row in whole[1:]), text[-300:]
        assert len(read_metrics(folder)["epoch"]) == len(whole) - 1
    if (folder / "summary.json").exists():
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        assert summary["weights"] == {"model": "last/model.safetensors"}
    if (folder / "steps.npz").exists():
        assert "loss" in read_step_curves(folder)
    latest = latest_checkpoint(folder / "checkpoints") if (folder / "checkpoints").is_dir() \
        else None
    if latest is not None:
        checkpoint = load_checkpoint(latest)
        assert checkpoint.record["epoch"] == int(checkpoint.state["step"])
        assert set(checkpoint.weights["model"]) == {"weight", "bias"}
        seen["checkpoints"] = 1
    return seen


def leftovers(store: Path) -> list[Path]:
    return [path for path in store.rglob(".*") if LEFTOVER.match(path.name)]


@pytest.mark.slow
def test_files_are_whole_after_every_kill_and_opening_the_store_tidies(tmp_path):
    store = tmp_path / "net.runs"
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"),
                                                                str(ROOT)])}
    helper = subprocess.Popen(
        [sys.executable, "-c", f"import test_i12_kills; test_i12_kills.serve({str(store)!r})"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=environment)
    moments = random.Random(12)
    tally = {"kills": 0, "left_behind": 0, "cut_lines": 0, "runs": 0, "checkpoints": 0}
    try:
        for kill in range(KILLS):
            when = "created" if kill % 2 else "start"
            helper.stdin.write(f"{moments.uniform(0.002, 0.040):.4f} {when}\n")
            helper.stdin.flush()
            assert helper.stdout.readline() == "killed\n", "the helper process failed"
            tally["kills"] += 1
            runs = sorted(p for p in store.iterdir() if p.name.isdigit()) \
                if store.is_dir() else []
            if runs:
                seen = check_whole(runs[-1])
                tally["cut_lines"] += seen["cut_lines"]
                tally["checkpoints"] += seen["checkpoints"]
            tally["left_behind"] += bool(leftovers(store))
            RunStore(store)   # opening the store removes what the killed writer left
            assert leftovers(store) == [], leftovers(store)
        tally["runs"] = len(RunStore(store).runs())
    finally:
        helper.stdin.close()
        helper.kill()
        helper.wait(timeout=30)
    print(f"kill test: {tally}")
    assert tally["kills"] == KILLS
    assert tally["runs"] >= KILLS / 2   # most kills came once the run was made (the rest while
    assert tally["left_behind"] > 0     # it was), and some landed mid-write
    assert tally["checkpoints"] > 0     # and after a checkpoint was written
