"""Issue 12, items 6-10: training faults reach the editor as clear, final states, and a run
folder's files stay whole.

6: a Stop sent right after Start is never lost. 7: a run folder that cannot be written ends
the run as failed, visibly, and nothing escapes a Qt slot. 8: a worker that stops answering
(SIGSTOP) is reported, and Stop ends it. 9: memory running out is named, with advice, and a
run whose estimate exceeds the machine is refused before it starts. 10: summary.json holds
weight paths relative to its run (old absolute ones are read where the run is now), a cut-off
last line of metrics.csv is skipped, and what killed writers leave is removed when a store
opens. (The kills themselves: test_i12_kills.py.)
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton
from test_i11_panel_state import ScriptedRun
from test_training_support import classifier

from designer.document import DesignDocument
from designer.training.panel import TrainingPanel
from engine.run_files import LEFTOVER, add_metrics_row, write_metrics
from engine.runs import RunRecord, RunStore, read_metrics
from engine.training import run_state
from engine.training.control import Control
from engine.training.events import Batch, Failed, Finished, Started
from engine.training.trainer import RunOptions, Trainer
from engine.training.worker import TrainingService

ALLOCATOR_TEXT = ("DefaultCPUAllocator: can't allocate memory: you tried to allocate "
                  "274877906944 bytes. Error code 12 (Cannot allocate memory)")


def train_here(design, out: Path | None = None, emit=None):
    """Train in this process; the events and the final one."""
    events = []

    def keep(event):
        events.append(event)
        if emit is not None:
            emit(event)

    final = Trainer(design, keep, RunOptions(out_dir=str(out) if out else None),
                    Control()).run()
    return events, final


def slow_classifier(**training):
    """Many epochs of a wide layer: a run that goes on until it is stopped."""
    design = classifier(**({"epochs": 200, "data": {"source": "generated", "samples": 8192}}
                           | training))
    design.set_params(design.find("hidden"), out_features=512)
    return design


def button(panel: TrainingPanel, action) -> QToolButton:
    return next(b for b in panel.findChildren(QToolButton) if b.defaultAction() is action)


def click(qtbot, panel: TrainingPanel, action) -> None:
    qtbot.mouseClick(button(panel, action), Qt.MouseButton.LeftButton)


# ---------------------------------------------------------------------------- 9: memory

def test_a_run_whose_estimate_exceeds_the_machine_is_refused_with_both_figures(tmp_path):
    design = classifier(batch_size=2**31 - 1)   # 32 x 2^31 floats of activations: 256 GB+
    events, final = train_here(design, tmp_path / "run")
    assert final.kind == "failed" and final.error == "out_of_memory"
    assert "needs about" in final.reason and "has" in final.reason
    assert "GB" in final.reason or "TB" in final.reason
    assert "batch size" in final.reason.lower() and "smaller layers" in final.reason
    assert [e.kind for e in events] == ["failed"]   # nothing started, nothing was loaded


def test_the_cpu_allocator_running_out_is_reported_as_out_of_memory(tmp_path, monkeypatch):
    def allocate(*args, **kwargs):
        raise RuntimeError(ALLOCATOR_TEXT)

    monkeypatch.setattr(run_state, "load_data", allocate)
    _, final = train_here(classifier(), tmp_path / "run")
    assert final.kind == "failed" and final.error == "out_of_memory"
    assert "ran out of memory" in final.reason and "unexpected" not in final.reason
    assert "batch size" in final.reason.lower() and "smaller layers" in final.reason
    assert "DefaultCPUAllocator" not in final.reason and "DefaultCPUAllocator" in final.details


# ---------------------------------------------------------------------------- 7 and 10: files

@pytest.mark.slow
def test_a_run_folder_that_cannot_be_written_mid_run_fails_the_run_by_name(tmp_path):
    out = tmp_path / "run"

    def spoil(event):   # after the first epoch, metrics.csv can no longer be written
        if event.kind == "epoch" and event.epoch == 1:
            (out / "metrics.csv").unlink()
            (out / "metrics.csv").mkdir()

    _, final = train_here(classifier(), out, spoil)
    assert final.kind == "failed" and final.error == "files"
    assert str(out) in final.reason and "cannot be written" in final.reason
    assert "unexpected" not in final.reason


@pytest.mark.slow
def test_summary_json_names_weights_relative_to_its_run(tmp_path):
    out = tmp_path / "net.runs" / "0001"
    _, final = train_here(classifier(epochs=1), out)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["weights"] == {"model": "last/model.safetensors"}
    assert final.weights == {"model": str(out / "last" / "model.safetensors")}   # the event's
    moved = tmp_path / "elsewhere" / "0007"
    moved.parent.mkdir()
    out.rename(moved)
    record = RunRecord("0007", moved, "moved", "", "completed")
    assert record.weight_files() == {"model": moved / "last" / "model.safetensors"}


def test_an_old_absolute_weights_path_is_read_where_the_run_is_now(tmp_path):
    run = tmp_path / "now" / "0003"
    (run / "best").mkdir(parents=True)
    (run / "best" / "model.safetensors").write_bytes(b"")
    old = "/home/someone/old place/net.runs/0001/best/model.safetensors"
    (run / "summary.json").write_text(json.dumps({"weights": {"model": old}}))
    record = RunRecord("0003", run, "old", "", "completed")
    assert record.weight_files() == {"model": run / "best" / "model.safetensors"}


def test_a_cut_off_last_line_of_metrics_is_left_out(tmp_path):
    rows = [{"epoch": 1, "lr": 0.01, "loss": 2.0}, {"epoch": 2, "lr": 0.01, "loss": 1.5}]
    write_metrics(tmp_path, rows[:1])
    add_metrics_row(tmp_path, rows)
    with open(tmp_path / "metrics.csv", "a", encoding="utf-8") as stream:
        stream.write("3,0.0")   # killed while appending epoch 3
    columns = read_metrics(tmp_path)
    assert columns["epoch"].tolist() == [1.0, 2.0] and columns["loss"].tolist() == [2.0, 1.5]


def test_a_new_column_rewrites_metrics_with_every_column(tmp_path):
    rows = [{"epoch": 1, "loss": 2.0}, {"epoch": 2, "loss": 1.5, "val_loss": 1.7},
            {"epoch": 3, "loss": 1.0}]
    for count in range(1, 4):
        add_metrics_row(tmp_path, rows[:count])
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert lines == ["epoch,loss,val_loss", "1,2.0,", "2,1.5,1.7", "3,1.0,"]


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_opening_a_store_removes_what_killed_writers_left(tmp_path):
    store = RunStore(tmp_path)
    killed, finished, live = store.create(), store.create(), store.create()
    store.update(finished.id, "completed")
    document = json.loads((killed.folder / "run.json").read_text())
    (killed.folder / "run.json").write_text(json.dumps({**document, "owner": dead_pid()}))
    leftovers = [".metrics.csv.0a1b2c3d.tmp", ".steps.npz.partial.npz",
                 "last/.model.safetensors.partial", "checkpoints/.epoch-0002.partial/record.json"]
    for record in (killed, finished, live):
        for name in leftovers:
            (record.folder / name).parent.mkdir(parents=True, exist_ok=True)
            (record.folder / name).write_text("half")
    (tmp_path / f".0009.{dead_pid()}.partial").mkdir()    # a run killed while being made
    (tmp_path / f".0010.{os.getpid()}.partial").mkdir()   # one being made now

    RunStore(tmp_path)

    def left(folder):
        return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*")
                      if LEFTOVER.match(p.name))
    assert left(killed.folder) == [] and left(finished.folder) == []
    assert len(left(live.folder)) == 4   # its writer (this process) may still rename them
    assert sorted(p.name for p in tmp_path.glob(".*")) == [f".0010.{os.getpid()}.partial"]
    assert [r.id for r in RunStore(tmp_path).runs()] == [killed.id, finished.id, live.id]


# ---------------------------------------------------------------------------- 7: the panel

class UnwritableRunService:
    """Stands in for TrainingService: each run's folder loses the right to keep its curves
    (steps.npz cannot be replaced), and the run ends with `final`."""

    def __init__(self, final) -> None:
        self.final = final

    def start(self, design, out_dir: str, **options) -> ScriptedRun:
        (Path(out_dir) / "steps.npz").mkdir()
        events = [Started(1, task="classification", batches_per_epoch=2, epochs=1,
                          out_dir=out_dir),
                  Batch(1, epoch=1, batch=2, batches=2, step=2, values={"loss": [1.0, 0.9]},
                        lr=0.01),
                  self.final]
        return ScriptedRun(1, events, stop_event=self.final)

    def shutdown(self) -> None: ...


@pytest.fixture
def panel(qtbot, tmp_path):
    document = DesignDocument(classifier(), tmp_path / "net.ncnet")
    made = TrainingPanel(document, scratch=tmp_path / "scratch")
    qtbot.addWidget(made)
    yield made
    made.shutdown()


@pytest.mark.parametrize("final", [
    Finished(1, status="completed", epochs_done=1, metrics={"loss": 0.9}, seconds=1.0),
    Failed(1, reason="the run's folder cannot be written", error="files")])
def test_a_run_whose_folder_cannot_be_written_ends_failed_in_the_panel(qtbot, panel, final):
    panel.session.use_service(UnwritableRunService(final))
    messages = []
    panel.message.connect(messages.append)
    click(qtbot, panel, panel.train_action)
    qtbot.waitUntil(lambda: panel.status.text().startswith("Failed"), timeout=5000)
    assert panel.session.live.state == "failed" and not panel.session.running
    assert panel.train_action.isEnabled() and not panel.stop_action.isEnabled()
    stored = panel.session.store.runs()[-1]
    if final.kind == "finished":   # ended well, then could not be kept: the reason says so
        assert "curves could not be kept" in panel.status.text()
        assert "steps.npz" in panel.session.live.final.reason
        assert stored.status == "failed" and "curves" in stored.info["reason"]
    else:                          # failed already: its own reason stays, the rest is told
        assert "cannot be written" in panel.status.text()
        assert any("curves could not be kept" in m for m in messages)


# ---------------------------------------------------------------------------- 6 and 8: a worker

@pytest.fixture(scope="module")
def service():
    with TrainingService(unresponsive_after=2.0) as running:
        yield running


@pytest.fixture
def no_stopped_worker(service):
    """A test that stops the worker must not leave it stopped (or running a run)."""
    yield
    pid = service.worker_pid
    if pid is not None:
        os.kill(pid, signal.SIGCONT)
    if service.active_run is not None:
        service.active_run.stop()
        service.active_run.wait(timeout=30)


@pytest.mark.slow
def test_stop_right_after_start_stops_every_run(service, tmp_path, no_stopped_worker):
    service.start(classifier(epochs=1)).wait(timeout=120)   # the worker is warm now
    finals = []
    for attempt in range(20):
        run = service.start(slow_classifier(), out_dir=str(tmp_path / f"{attempt}"))
        run.stop()
        run.wait(timeout=60)
        final = run.final
        finals.append((final.kind, final.status if final.kind == "finished" else final.reason))
    assert finals == [("finished", "stopped")] * 20


@pytest.mark.slow
def test_a_stopped_worker_is_reported_and_stop_ends_it(service, tmp_path, no_stopped_worker):
    run = service.start(slow_classifier(), out_dir=str(tmp_path))
    seen = []
    while not any(e.kind == "batch" for e in seen):
        seen += run.events(timeout=0.1)
        assert not run.done, run.final
    assert not run.unresponsive
    pid = service.worker_pid
    os.kill(pid, signal.SIGSTOP)
    try:
        while not run.unresponsive:   # within unresponsive_after (2 s) of its last beat
            run.events(timeout=0.1)
        run.stop()
        assert run.done and run.final.kind == "failed" and run.final.error == "unresponsive"
        assert "stopped responding" in run.final.reason
        assert [e.kind for e in run.events()] == ["failed"]   # handed out once
    finally:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    assert run.final.error == "unresponsive"
    after = service.start(classifier(epochs=1))   # a fresh worker took its place
    after.wait(timeout=120)
    assert after.final.kind == "finished"


@pytest.mark.slow
def test_the_panel_says_a_stopped_worker_is_not_responding_and_stop_ends_it(qtbot, tmp_path):
    document = DesignDocument(slow_classifier(), tmp_path / "net.ncnet")
    panel = TrainingPanel(document, scratch=tmp_path / "scratch",
                          service_factory=lambda: TrainingService(unresponsive_after=2.0))
    qtbot.addWidget(panel)
    pid = None
    try:
        click(qtbot, panel, panel.train_action)
        qtbot.waitUntil(lambda: panel.session.live.progress.step > 0, timeout=120_000)
        pid = panel.session.service.worker_pid
        os.kill(pid, signal.SIGSTOP)
        qtbot.waitUntil(lambda: panel.status.text().startswith("Not responding"),
                        timeout=10_000)
        assert button(panel, panel.stop_action).isEnabled()
        click(qtbot, panel, panel.stop_action)
        qtbot.waitUntil(lambda: panel.status.text().startswith("Failed"), timeout=5000)
        assert "stopped responding" in panel.status.text()
        assert not _alive(pid) and panel.train_action.isEnabled()
        assert panel.session.store.runs()[-1].status == "failed"
    finally:
        if pid is not None and _alive(pid):
            os.kill(pid, signal.SIGKILL)
        panel.shutdown()


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, not yet collected by its parent, does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stream:
            return stream.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False
