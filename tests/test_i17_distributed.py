"""Issue 17: `neuralcanvas train --nproc-per-node N` trains under torchrun with
DistributedDataParallel (Gloo on the CPU, NCCL on CUDA), rank 0 keeping the run.

The two-process run is compared with the one-process run that takes the same steps: N
processes with batch size B against one with batch size N x B, same seed. DistributedSampler
deals the one-process batch out to the ranks (rank r takes its every N-th sample), DDP averages
the ranks' mean gradients, so each step sees the same gradient; only the order in which
float32 sums are taken differs, which moves a weight by a few units in the last place per
step (about 1e-7 here). Over the 64 Adam steps below the budget is 1e-5, a hundred times what
was measured and far below what any real difference (a wrong share, a missed average) makes.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from safetensors.torch import load_file
from test_i17_distributed_support import children
from test_training_support import classifier, read_metrics

from engine import save_design
from engine.cli import main
from engine.training.checkpoint import latest_checkpoint, load_checkpoint
from engine.training.distributed import (
    Launch,
    _final,
    describe_failure,
    device_problem,
    launch_problem,
)
from engine.training.events import Failed, Finished
from engine.training.portable.processes import process_backend

CLI = "import sys; from engine.cli import main; sys.exit(main())"
TOLERANCE = 1e-5   # float32 sums in another order, over 64 Adam steps (see the docstring)


def _design(tmp_path: Path, name: str, **training) -> Path:
    path = tmp_path / f"{name}.ncnet"
    save_design(classifier(data={"source": "generated", "samples": 640}, **training), path)
    return path


# ---------------------------------------------------------------------------- bad values

@pytest.mark.parametrize(("launch", "named"), [
    (Launch(0), "--nproc-per-node is 0 but must be at least 1"),
    (Launch(-2), "--nproc-per-node is -2 but must be at least 1"),
    (Launch(2, nnodes=0), "--nnodes is 0"),
    (Launch(2, nnodes=2, node_rank=2, master_addr="h", master_port=29500),
     "--node-rank is 2 but must be from 0 to 1"),
    (Launch(2, nnodes=2), "needs --master-addr and --master-port"),
    (Launch(2, master_port=70000), "--master-port is 70000"),
])
def test_bad_launch_values_are_named(launch, named):
    assert named in launch_problem(launch)


def test_processes_on_devices():
    assert device_problem(Launch(2), torch.device("cpu")) is None
    assert "MPS trains in one process" in device_problem(Launch(2), torch.device("mps"))
    assert "each drives the GPU of its own local rank" in device_problem(
        Launch(2), torch.device("cuda", 1))
    assert process_backend(torch.device("cuda")) == "nccl"
    assert process_backend(torch.device("cpu")) == "gloo"


def test_more_processes_than_gpus_is_refused(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert "this machine has 1 CUDA device; each process drives one GPU" in device_problem(
        Launch(2), torch.device("cuda"))
    code = main(["train", str(_design(tmp_path, "net")), "--nproc-per-node", "2",
                 "--device", "cuda"])
    assert code == 2
    assert "--nproc-per-node is 2 but this machine has 1 CUDA device" in capsys.readouterr().err


def test_the_command_refuses_zero_processes_and_names_the_setting(tmp_path, capsys):
    assert main(["train", str(_design(tmp_path, "net")), "--nproc-per-node", "0"]) == 2
    assert "error: --nproc-per-node is 0 but must be at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):   # argparse: not a number
        main(["train", str(_design(tmp_path, "net")), "--nproc-per-node", "two"])
    assert "invalid int value: 'two'" in capsys.readouterr().err


# ---------------------------------------------------------------------------- the final event

def _failure(exitcode: int, pid: int, message: object = "", timestamp: int = 100):
    name = signal.Signals(-exitcode).name if exitcode < 0 else ""
    return SimpleNamespace(exitcode=exitcode, pid=pid, message=message, timestamp=timestamp,
                           signal_name=lambda: name)


def test_a_killed_rank_is_named_before_the_ranks_torchrun_stopped():
    reported = Failed(0, reason="lost its peer", error="exception", epoch=3, step=40,
                      checkpoint="run/checkpoints/epoch-0002")
    final = _final(0, Launch(2), reported, {0: _failure(-15, 11), 1: _failure(-9, 12)}, None)
    assert final.reason.startswith("rank 1 (process 12) was killed by SIGKILL, so training in "
                                   "2 processes stopped")
    assert final.checkpoint == "run/checkpoints/epoch-0002" and final.epoch == 3
    assert "rank 0 (process 11) was killed by SIGTERM" in final.details
    assert "rank 0 reported: lost its peer" in final.details


def test_a_rank_that_failed_says_why_and_rank_zero_alone_keeps_its_report():
    said = {"message": "RankFailed: the data ran out", "extraInfo": {}}
    assert describe_failure(1, _failure(1, 7, said)) == ("rank 1 (process 7) failed: the data "
                                                         "ran out")
    assert describe_failure(1, _failure(3, 7)) == "rank 1 (process 7) exited with status 3"
    reported = Failed(0, reason="bad data", error="data")
    assert _final(0, Launch(2), reported, {0: _failure(1, 5)}, None) is reported
    finished = Finished(0, status="completed")
    assert _final(0, Launch(2), finished, {}, None) is finished
    assert _final(0, Launch(2), None, {}, "SIGINT").error == "interrupted"


# ---------------------------------------------------------------------------- two processes

@pytest.mark.slow
def test_two_processes_take_the_steps_of_one_with_twice_the_batch(tmp_path, capsys):
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(["train", str(_design(tmp_path, "one", epochs=2, batch_size=32)),
                 "--device", "cpu", "--out", str(one)]) == 0
    capsys.readouterr()
    assert main(["train", str(_design(tmp_path, "two", epochs=2, batch_size=16)),
                 "--device", "cpu", "--nproc-per-node", "2", "--out", str(two)]) == 0
    printed = capsys.readouterr().out
    assert "starting 2 processes with torchrun (gloo)" in printed
    assert printed.count("epoch 2/2:") == 1   # rank 0 alone reports
    alone, shared = (load_file(f / "last" / "model.safetensors") for f in (one, two))
    for name, weights in alone.items():
        assert torch.allclose(shared[name], weights, rtol=0, atol=TOLERANCE), name
    for row, other in zip(read_metrics(one / "metrics.csv"), read_metrics(two / "metrics.csv"),
                          strict=True):
        assert row.keys() == other.keys()
        assert all(abs(row[k] - other[k]) <= TOLERANCE * max(1, abs(row[k])) for k in row)
    assert sorted(p.name for p in (two / "checkpoints").iterdir()) == ["epoch-0001",
                                                                       "epoch-0002"]


def _rank_of(pid: int) -> int | None:
    try:
        environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return None
    ranks = [int(v.split(b"=")[1]) for v in environment if v.startswith(b"RANK=")]
    return ranks[0] if ranks else None


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the ranks in /proc")
def test_a_killed_rank_ends_the_run_with_a_clear_message_and_no_process_left(tmp_path):
    out = tmp_path / "out"
    launcher = subprocess.Popen(
        [sys.executable, "-c", CLI, "train", str(_design(tmp_path, "net", epochs=10_000,
                                                        batch_size=16)),
         "--device", "cpu", "--nproc-per-node", "2", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 240
        while not ((out / "metrics.csv").is_file()
                   and len(read_metrics(out / "metrics.csv")) >= 1):
            assert launcher.poll() is None and time.monotonic() < deadline, "never trained"
            time.sleep(0.1)
        ranks = {_rank_of(pid): pid for pid in children(launcher.pid)}
        assert set(ranks) == {0, 1}
        os.kill(ranks[1], signal.SIGKILL)
        printed, _ = launcher.communicate(timeout=120)   # a hang fails here
    finally:
        launcher.kill()
        launcher.wait()
    assert launcher.returncode == 1
    assert f"error: rank 1 (process {ranks[1]}) was killed by SIGKILL, so training in 2 " \
           "processes stopped" in printed
    assert not any(Path(f"/proc/{pid}").exists() for pid in ranks.values())


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds the ranks in /proc")
def test_ctrl_c_stops_every_process_at_one_step_and_keeps_the_run(tmp_path):
    """Ctrl+C in a terminal reaches the launcher and its processes (one process group): every
    process stops at the same step, rank 0 writes the last weights and the summary, and the
    checkpoints written so far stay."""
    out = tmp_path / "out"
    launcher = subprocess.Popen(
        [sys.executable, "-c", CLI, "train", str(_design(tmp_path, "net", epochs=10_000,
                                                        batch_size=16)),
         "--device", "cpu", "--nproc-per-node", "2", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not (out / "checkpoints" / "epoch-0001").is_dir():
            assert launcher.poll() is None and time.monotonic() < deadline, "never trained"
            time.sleep(0.1)
        ranks = children(launcher.pid)
        os.killpg(launcher.pid, signal.SIGINT)   # what Ctrl+C does
        printed, _ = launcher.communicate(timeout=120)   # a hang fails here
    finally:
        launcher.kill()
        launcher.wait()
    assert launcher.returncode == 130, printed
    assert "stopping every process at the next step they agree on" in printed
    assert "stopped after" in printed and "Traceback" not in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "stopped"
    assert (out / "last" / "model.safetensors").is_file()
    kept = latest_checkpoint(out / "checkpoints")
    assert kept is not None and load_checkpoint(kept).record["epoch"] >= 1
    assert len(ranks) == 2 and not any(Path(f"/proc/{pid}").exists() for pid in ranks)
