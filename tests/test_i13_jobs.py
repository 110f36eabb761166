"""`Jobs` keeps only the latest job per key, and recovers when its helper process dies."""

import multiprocessing as mp
import operator
import os
import signal
import time

import pytest

from designer.training import jobs

pytestmark = pytest.mark.slow  # spawns the helper process

SPAWN_WAIT_MS = 120_000  # a spawned helper imports the app's modules; generous on a busy machine


@pytest.fixture
def window_jobs():
    window_jobs = jobs.Jobs()
    yield window_jobs
    window_jobs.shutdown()
    jobs.shutdown_helper()


class Replies:
    """What `done` and `failed` received, in order, tagged by job."""

    def __init__(self):
        self.log = []

    def done(self, tag):
        return lambda result: self.log.append((tag, "done", result))

    def failed(self, tag):
        return lambda reason: self.log.append((tag, "failed", reason))

    def submit(self, window_jobs, tag, key, function, *args):
        window_jobs.submit(key, function, *args, done=self.done(tag), failed=self.failed(tag))

    def tags(self):
        return [tag for tag, _, _ in self.log]


def helper_pid(qtbot, window_jobs, replies):
    replies.submit(window_jobs, "pid", "pid", os.getpid)
    qtbot.waitUntil(lambda: "pid" in replies.tags(), timeout=SPAWN_WAIT_MS)
    tag, outcome, pid = replies.log.pop()
    assert (tag, outcome) == ("pid", "done")
    return pid


def kill_and_wait(qtbot, pid):
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: pid not in [p.pid for p in mp.active_children()], timeout=30_000)


def test_only_the_latest_job_of_a_key_reports(qtbot, window_jobs):
    replies = Replies()
    for number in (1, 2, 3):  # a burst of edits, each asking for a new preview
        replies.submit(window_jobs, f"preview {number}", "preview", operator.mul, number, 10)
    replies.submit(window_jobs, "other key", "other", operator.mul, 4, 10)
    # one helper runs jobs in order: once "other key" has reported, every preview has finished
    qtbot.waitUntil(lambda: "other key" in replies.tags(), timeout=SPAWN_WAIT_MS)
    assert replies.log == [("preview 3", "done", 30), ("other key", "done", 40)]


def test_the_next_job_after_an_idle_helper_was_killed_runs_in_a_new_helper(qtbot, window_jobs):
    replies = Replies()
    first = helper_pid(qtbot, window_jobs, replies)
    kill_and_wait(qtbot, first)
    second = helper_pid(qtbot, window_jobs, replies)
    assert second != first
    assert replies.log == []


def test_a_helper_killed_mid_job_fails_that_job_by_name_and_the_next_one_runs(qtbot, window_jobs):
    replies = Replies()
    pid = helper_pid(qtbot, window_jobs, replies)
    replies.submit(window_jobs, "long", "long", time.sleep, 600)
    kill_and_wait(qtbot, pid)
    qtbot.waitUntil(lambda: "long" in replies.tags(), timeout=30_000)
    reason = "the helper process stopped unexpectedly; try again"
    assert replies.log == [("long", "failed", reason)]
    replies.log.clear()
    assert helper_pid(qtbot, window_jobs, replies) != pid
