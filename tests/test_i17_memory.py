"""One helper process serves training and background jobs (a torch process costs ~400 MB of
its own): jobs run in the training worker between runs, in a spare process while a run goes,
and the spare ends after the run. A job gives back what it allocated when it ends, and one
that cannot be sent, or whose result cannot come back, fails by itself, leaving the worker."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from designer.document import DesignDocument
from designer.training import jobs
from designer.training.helper import Helper
from designer.training.session import TrainingSession
from engine.child_process import _malloc_trim
from engine.training.worker import TrainingService
from templates import load_template

pytestmark = [pytest.mark.slow,   # spawns the worker (bare: no torch is imported here)
              pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")]

SPAWN_WAIT_MS = 60_000
CHURN_MB = 200
_kept: list[bytes] = []


class Replies:
    """What the jobs' `done` and `failed` received, by key."""

    def __init__(self, window_jobs: jobs.Jobs) -> None:
        self.jobs = window_jobs
        self.got: dict[str, tuple[str, object]] = {}

    def submit(self, key: str, function, *args) -> None:
        self.got.pop(key, None)
        self.jobs.submit(key, function, *args,
                         done=lambda value: self.got.update({key: ("done", value)}),
                         failed=lambda reason: self.got.update({key: ("failed", reason)}))

    def wait(self, qtbot, key: str) -> tuple[str, object]:
        qtbot.waitUntil(lambda: key in self.got, timeout=SPAWN_WAIT_MS)
        return self.got[key]


@pytest.fixture
def replies():
    window_jobs = jobs.Jobs()
    yield Replies(window_jobs)
    window_jobs.shutdown()
    jobs.shutdown_helper()


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def unique_mb() -> float:
    """This process's own resident memory (USS)."""
    fields = dict(line.split(":", 1) for line in
                  Path("/proc/self/smaps_rollup").read_text().splitlines()[1:])
    return sum(int(fields[key].split()[0]) for key in ("Private_Clean", "Private_Dirty")) / 1024


def churn() -> float:
    """Allocate and free CHURN_MB in small blocks, keeping one block allocated after them (as
    a job's leftovers do, so free() alone cannot shrink the heap); USS before, in MB."""
    before = unique_mb()
    blocks = [bytes(1000) for _ in range(CHURN_MB * 1000)]
    _kept.append(bytes(1000))
    del blocks
    return before


def test_the_training_session_and_background_jobs_share_one_process(qtbot, replies):
    replies.submit("pid", os.getpid)
    _, worker = replies.wait(qtbot, "pid")
    session = TrainingSession(DesignDocument(load_template("mlp")))
    session.warm_up()   # as the Training panel shown: torch is imported in that same worker
    assert session.service is jobs.worker() and session.service.worker_pid == worker
    session.shutdown()   # a window closing stops its run; the app's worker stays
    assert jobs.worker().worker_pid is not None


class PretendRun(TrainingService):
    """A worker whose run is going for as long as `running` says (no training needed)."""

    running = True

    @property
    def active_run(self):
        return object() if self.running else None


def test_while_a_run_goes_jobs_run_in_a_spare_process_that_ends_after_it(qtbot):
    service = PretendRun(warm=False)
    helper = Helper(lambda: service)
    try:
        spare = helper.submit(os.getpid).result(timeout=SPAWN_WAIT_MS / 1000)
        assert spare != os.getpid() and alive(spare) and service.worker_pid is None
        service.running = False
        qtbot.waitUntil(lambda: not alive(spare), timeout=SPAWN_WAIT_MS)
        assert helper.submit(os.getpid).result(timeout=SPAWN_WAIT_MS / 1000) == \
            service.worker_pid
    finally:
        helper.shutdown()
        service.shutdown()


def test_a_job_that_cannot_be_sent_or_answered_fails_alone(qtbot, replies):
    replies.submit("pid", os.getpid)
    _, worker = replies.wait(qtbot, "pid")
    replies.submit("argument", len, lambda: None)
    outcome, reason = replies.wait(qtbot, "argument")
    assert outcome == "failed" and "len cannot be sent to the worker" in reason
    replies.submit("result", threading.Lock)
    outcome, reason = replies.wait(qtbot, "result")
    assert outcome == "failed" and "the result cannot be sent back" in reason
    replies.submit("pid", os.getpid)
    assert replies.wait(qtbot, "pid") == ("done", worker)


@pytest.mark.skipif(_malloc_trim is None, reason="malloc_trim is glibc's")
def test_the_worker_gives_back_what_a_job_allocated(qtbot, replies):
    replies.submit("churn", churn)
    _, before = replies.wait(qtbot, "churn")
    replies.submit("after", unique_mb)
    _, after = replies.wait(qtbot, "after")
    assert after < before + CHURN_MB / 4, f"{after:.0f} MB after the job, {before:.0f} before"
