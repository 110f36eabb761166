"""The training worker process: events, commands, and every way a run can end badly, with the
caller alive and informed."""

import json
import os
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_training_support import classifier, of_kind

from engine import Design
from engine.training.checkpoint import load_checkpoint
from engine.training.worker import TrainingService

pytestmark = pytest.mark.slow  # every test starts the training worker


@pytest.fixture(scope="module")
def service():
    with TrainingService() as running:
        yield running


@pytest.fixture(autouse=True)
def no_run_left_going(service):
    """A failed test must not leave its run going for the next one."""
    yield
    if service.active_run is not None:
        service.active_run.stop()
        service.active_run.wait(timeout=30)


def slow_classifier(**training):
    """About half a second per epoch: long enough to act on it mid-run."""
    d = classifier(**({"epochs": 30, "data": {"source": "generated", "samples": 8192}}
                      | training))
    d.set_params(d.find("hidden"), out_features=512)
    return d


def wait_for(run, kind, timeout=60):
    """Events up to and including the first of `kind`."""
    seen, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline and not run.done:
        seen += run.events(timeout=0.05)
        if of_kind(seen, kind):
            return seen
    raise AssertionError(f"no {kind} event; got {[e.kind for e in seen]}")


def test_a_run_streams_its_events_in_order(service, tmp_path):
    run = service.start(classifier(epochs=2), out_dir=str(tmp_path))
    events = run.wait(timeout=120)
    kinds = [e.kind for e in events]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert kinds.index("batch") < kinds.index("epoch") < kinds.index("validation")
    assert {"gradients", "checkpoint"} <= set(kinds)
    assert all(e.run == run.id for e in events)
    assert run.final.status == "completed"


def test_the_next_run_reuses_the_warm_worker(service):
    """What makes the next first batch quick (benchmarks/latency.py times it): the worker
    that imported torch for one run trains the next."""
    service.start(classifier(epochs=1)).wait(timeout=120)  # the worker is warm now
    warm = service.worker_pid
    run = service.start(classifier(epochs=1))
    kinds = [e.kind for e in run.wait(timeout=120)]
    assert kinds[0] == "started" and "batch" in kinds and kinds[-1] == "finished"
    assert service.worker_pid == warm and run.final.status == "completed"


def test_stop_during_a_batch_is_acknowledged_at_once_and_keeps_the_checkpoint(service, tmp_path):
    run = service.start(slow_classifier(), out_dir=str(tmp_path))
    seen = wait_for(run, "checkpoint")
    kept = of_kind(seen, "checkpoint")[-1].path
    before = json.loads((tmp_path / "checkpoints" / os.path.basename(kept) /
                         "record.json").read_text())
    run.stop()
    seen = wait_for(run, "ack")  # how soon: benchmarks/latency.py
    assert of_kind(seen, "ack")[0].state == "stopping"
    seen += run.wait(timeout=120)
    assert run.final.kind == "finished" and run.final.status == "stopped"
    assert load_checkpoint(kept).record == before
    assert run.final.epochs_done < 30


def test_pause_resume_and_checkpoint_now(service, tmp_path):
    run = service.start(slow_classifier(epochs=3), out_dir=str(tmp_path))
    wait_for(run, "batch")
    run.pause()
    seen = wait_for(run, "ack")
    assert of_kind(seen, "ack")[0].state == "paused"
    # The steps done before the pause landed are still reported; then it goes quiet.
    deadline = time.monotonic() + 60  # generous: only a pause that never took hits it
    while of_kind(run.events(timeout=0.5), "batch"):
        assert time.monotonic() < deadline, "batches kept coming while paused"
    run.checkpoint()
    seen = wait_for(run, "checkpoint")
    assert of_kind(seen, "checkpoint")[-1].reason == "request"
    run.resume()
    seen += run.wait(timeout=240)  # an upper bound for a loaded machine, not a sleep
    assert of_kind(seen, "batch") and run.final.status == "completed"


def corrupt_png(path):
    """A PNG whose structure checks out but whose pixel data cannot be decompressed."""
    Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).save(path)
    data = bytearray(path.read_bytes())
    start = data.index(b"IDAT")
    length = int.from_bytes(data[start - 4:start], "big")
    data[start + 4:start + 4 + length] = bytes(range(length))
    data[start + 4 + length:start + 8 + length] = zlib.crc32(data[start:start + 4 + length]) \
        .to_bytes(4, "big")
    path.write_bytes(bytes(data))


def test_a_run_that_raises_ends_failed_and_the_next_run_works(service, tmp_path):
    for label in ("a", "b"):
        (tmp_path / "pics" / label).mkdir(parents=True)
        for k in range(4):
            Image.fromarray(np.full((8, 8, 3), k, dtype=np.uint8)).save(
                tmp_path / "pics" / label / f"{k}.png")
    corrupt_png(tmp_path / "pics" / "b" / "bad.png")
    d = Design()
    x = d.add("Input", shape=(3, 8, 8))
    d.add("Output", d.add("Linear", d.add("Flatten", x), out_features=2))
    d.set_training(epochs=2, batch_size=2, data={"source": "image_folder",
                                                  "path": str(tmp_path / "pics")})
    run = service.start(d)
    run.wait(timeout=120)
    assert run.final.kind == "failed" and run.final.error == "exception"
    assert "unexpected error" in run.final.reason and run.final.details
    after = service.start(classifier(epochs=1))
    after.wait(timeout=120)
    assert after.final.kind == "finished"


def test_a_worker_killed_from_outside_is_reported(service, tmp_path):
    run = service.start(slow_classifier(), out_dir=str(tmp_path))
    wait_for(run, "checkpoint")
    os.kill(service.worker_pid, signal.SIGKILL)
    run.wait(timeout=30)
    assert run.final.kind == "failed" and run.final.error == "crashed"
    assert "SIGKILL" in run.final.reason
    assert run.final.checkpoint and load_checkpoint(run.final.checkpoint).record["epoch"] >= 1
    after = service.start(classifier(epochs=1))
    after.wait(timeout=120)
    assert after.final.kind == "finished"


def test_a_loss_that_becomes_nan_stops_with_its_step(service, tmp_path):
    d = Design()
    x = d.add("Input", shape=(8,))
    d.add("Output", d.add("Linear", x, out_features=2))
    d.set_training(task="regression", data={"source": "generated", "samples": 512}, epochs=20,
                   batch_size=32, optimizer={"name": "sgd", "lr": 5.0, "momentum": 0.9})
    run = service.start(d, out_dir=str(tmp_path))
    events = run.wait(timeout=120)
    assert run.final.kind == "failed" and run.final.error == "non_finite_loss"
    step, epoch = run.final.step, run.final.epoch
    steps_per_epoch = 13  # 410 training samples (a 0.2 validation split) in batches of 32
    assert epoch >= 2 and (epoch - 1) * steps_per_epoch < step <= epoch * steps_per_epoch
    assert run.final.checkpoint.endswith(f"epoch-{epoch - 1:04d}")
    assert load_checkpoint(run.final.checkpoint).record["epoch"] == epoch - 1
    assert not (tmp_path / "checkpoints" / f"epoch-{epoch:04d}").exists()
    assert any(e.code == "non_finite_loss" and f"step {step} " in e.message
               for e in of_kind(events, "diagnostic"))


UNREAD_JOB_AT_EXIT = """
from engine.training.worker import TrainingService

if __name__ == "__main__":
    service = TrainingService(warm=True)      # importing torch: it reads no command for seconds
    service.call(len, b"x" * 2_000_000)       # far more than a pipe holds
    service.shutdown()
    print("shut down", flush=True)
"""

ENDED_AT_ONCE = """
import os
from engine.training.worker import TrainingService

if __name__ == "__main__":
    service = TrainingService(warm=False)
    print(service.call(len, (1, 2)).result(timeout=120).value, flush=True)
    service.shutdown()
    os._exit(0)   # as the app's launcher ends the process: no interpreter teardown
"""

ENDED_AT_ONCE_AFTER_A_RUN = """
import os
from engine.training.worker import TrainingService
from templates import load_template

if __name__ == "__main__":
    service = TrainingService(warm=False)
    run = service.start(load_template("mlp"), overrides={"epochs": 1})   # kept, as the app does
    run.wait(timeout=120)
    print(run.final.kind, flush=True)
    service.shutdown()
    os._exit(0)
"""


def run_script(folder: Path, text: str) -> subprocess.CompletedProcess:
    """`text` run as a script of its own with the repository importable; fails the test when
    it has not ended after two minutes."""
    script = folder / "script.py"
    script.write_text(text)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ,
           "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    try:
        return subprocess.run([sys.executable, str(script)], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"the process did not end after shutting its worker down: {hung.stdout}")


def test_a_process_whose_worker_never_read_a_large_job_still_exits(tmp_path):
    """The queue's feeder thread was left writing into a full pipe, and the interpreter's exit
    joined it for ever (the app's launcher skips that teardown; scripts and commands do not)."""
    result = run_script(tmp_path, UNREAD_JOB_AT_EXIT)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "shut down\n"


@pytest.mark.parametrize(("script", "printed"), [(ENDED_AT_ONCE, "2\n"),
                                                (ENDED_AT_ONCE_AFTER_A_RUN, "finished\n")])
def test_a_process_ended_at_once_after_shutting_its_worker_down_leaks_no_semaphore(
        script, printed, tmp_path):
    """The command queue's feeder thread held two semaphores until it ended, and the queue
    (kept by a finished run) its three; the resource tracker warned of them as leaked each
    time the app was quit from a terminal."""
    result = run_script(tmp_path, script)
    assert result.returncode == 0, result.stderr
    assert result.stdout == printed
    assert "leaked" not in result.stderr, result.stderr
