"""Issue 17: the app trains in several processes through its worker, as `neuralcanvas train
--nproc-per-node` does: a run whose Processes setting is 2 runs under torchrun, rank 0's
events reach the caller as a one-process run's do, and Pause, Resume, Checkpoint and Stop
reach every process, which act on them at the same step (or DDP would wait forever)."""

import time
from multiprocessing.connection import Client
from pathlib import Path

import pytest
from test_i17_distributed_support import children
from test_training_support import classifier, of_kind
from test_worker import wait_for

from engine.training.checkpoint import load_checkpoint
from engine.training.control import Command, Control
from engine.training.distributed import _EventRelay, launch_for_setting
from engine.training.labels import SettingError
from engine.training.worker import TrainingService

# ---------------------------------------------------------------------------- cheap parts

def test_the_processes_setting_is_refused_where_it_cannot_run():
    assert launch_for_setting(1, "cuda", gpus=0) is None   # one process: the Trainer's
    assert launch_for_setting(2, "cpu").nproc_per_node == 2
    with pytest.raises(SettingError, match=r"Processes \(Setup > Device\) is 3 but this "
                       "machine has 2 CUDA devices; each process drives one GPU") as caught:
        launch_for_setting(3, "cuda", gpus=2)
    assert caught.value.path == "processes"
    with pytest.raises(SettingError, match="Apple's MPS trains in one process"):
        launch_for_setting(2, "mps")


def test_a_control_relays_what_its_commands_amount_to_and_then_each_command():
    control, sent = Control(), []
    control.obey(Command.PAUSE)
    control.obey(Command.CHECKPOINT)
    control.relay_to(sent.append)
    assert sent == [Command.PAUSE, Command.CHECKPOINT]
    control.obey(Command.RESUME)
    control.obey(Command.STOP)
    assert sent[2:] == [Command.RESUME, Command.STOP]
    stopped, sent = Control(), []
    stopped.obey(Command.PAUSE)
    stopped.obey(Command.STOP)
    stopped.relay_to(sent.append)
    assert sent == [Command.STOP]   # stopping ends a pause too


def test_commands_given_before_rank_zero_connects_reach_it_in_order():
    with _EventRelay(lambda event: None) as relay:
        relay.command(Command.PAUSE)
        relay.command(Command.CHECKPOINT)
        host, port = relay.address.rsplit(":", 1)
        with Client((host, int(port)), authkey=relay.key) as rank_zero:
            assert [rank_zero.recv(), rank_zero.recv()] == ["pause", "checkpoint"]
            relay.command(Command.STOP)
            assert rank_zero.recv() == "stop"
    relay.command(Command.RESUME)   # the run is over: dropped, no error


# ---------------------------------------------------------------------------- two processes

@pytest.fixture(scope="module")
def service():
    with TrainingService(warm=False) as running:
        yield running


def two_processes(**training):
    return classifier(**({"processes": 2, "device": "cpu", "batch_size": 16} | training))


def wait_until_quiet(run, quiet=1.5, timeout=60):
    """Wait for `quiet` seconds without a batch: the Ack comes when the worker reads Pause,
    and the processes act on it at the next step they agree at (an epoch's end may come
    first, with its events). Only a pause that never took reaches the timeout."""
    deadline, last_batch = time.monotonic() + timeout, time.monotonic()
    while time.monotonic() - last_batch < quiet:
        if of_kind(run.events(timeout=0.2), "batch"):
            last_batch = time.monotonic()
        assert time.monotonic() < deadline, "batches kept coming while paused"


def wait_for_checkpoint(run, reason, timeout=60):
    """The first checkpoint written for `reason`; an epoch's may come before it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not run.done:
        written = [e for e in of_kind(run.events(timeout=0.05), "checkpoint")
                   if e.reason == reason]
        if written:
            return written[0]
    raise AssertionError(f"no checkpoint for {reason!r}")


@pytest.mark.slow
def test_commands_reach_every_process_and_stop_ends_them_all(service, tmp_path):
    run = service.start(two_processes(epochs=10_000), out_dir=str(tmp_path))
    try:
        wait_for(run, "batch", timeout=240)   # torchrun and two processes importing torch
        ranks = children(service.worker_pid)
        assert len(ranks) >= 2
        run.pause()
        assert of_kind(wait_for(run, "ack"), "ack")[0].state == "paused"
        wait_until_quiet(run)
        run.checkpoint()   # rank 0 writes it while every process waits
        written = wait_for_checkpoint(run, "request")
        run.resume()
        wait_for(run, "batch")   # all of them train again
    finally:
        run.stop()   # a failure above must not leave the run going for the next test
        seen = run.wait(timeout=120)
    assert run.final.kind == "finished" and run.final.status == "stopped", seen
    assert load_checkpoint(written.path).record["reason"] == "request"
    assert (tmp_path / "last").is_dir() and (tmp_path / "summary.json").is_file()
    assert children(service.worker_pid) == []
    assert not any(Path(f"/proc/{pid}").exists() for pid in ranks)


@pytest.mark.slow
def test_the_panel_shows_a_run_of_two_processes_as_one(qtbot, tmp_path, service):
    from test_app_support import ScriptedDialogs

    from designer.document import DesignDocument
    from designer.main_window import MainWindow
    from designer.settings import AppSettings
    from engine import save_design
    from templates import load_template

    design = load_template("mlp")
    design.set_training(epochs=2, processes=2, device="cpu")
    path = tmp_path / "mlp.ncnet"
    save_design(design, path)
    window = MainWindow(DesignDocument(design, path), AppSettings(tmp_path / "settings.ini"),
                        None, tmp_path / "recovery", ScriptedDialogs())
    window.training.session.use_service(service)
    qtbot.addWidget(window)
    window.show()
    window.show_training()
    live = window.training.session.live
    window.actions_by_name["train"].trigger()
    qtbot.waitUntil(lambda: live.final is not None, timeout=240_000)
    assert live.final.kind == "finished" and live.final.status == "completed", live.final
    assert live.last_epoch == 2 and len(live.steps.get("loss", ())) > 0   # rank 0's curves
    record = window.training.session.store.runs()[-1]
    assert record.status == "completed"
    assert sorted(p.name for p in (record.folder / "checkpoints").iterdir()) == [
        "epoch-0001", "epoch-0002"]
    assert children(service.worker_pid) == []
