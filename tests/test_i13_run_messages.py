"""A run's messages are classes told apart by type: the live model folds every kind (adding one
without saying how it shows fails here), and each crosses a process boundary cheaply. Commands
to a run are a closed set too: each is obeyed and acknowledged with the state it leads to."""

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from event_kinds import leaf_classes

from designer.training.live import LiveRun
from engine.training.control import Command, Control
from engine.training.events import FINAL, AtEpoch, AtStep, RunMessage, Samples
from engine.training.worker import STATE_AFTER

ROOT = Path(__file__).resolve().parents[1]


def kinds_of_message() -> set[type]:
    return leaf_classes(RunMessage)


def test_the_live_run_folds_every_kind_of_message():
    assert set(LiveRun.FOLD) == kinds_of_message()


def test_each_kind_has_its_own_name_for_people_and_files():
    names = [kind.kind for kind in kinds_of_message()]
    assert len(set(names)) == len(names)
    assert {family.kind for family in (RunMessage, AtEpoch, AtStep)}.isdisjoint(names)


def test_a_message_that_is_no_kind_is_refused_not_ignored():
    with pytest.raises(KeyError):
        LiveRun().apply([RunMessage(1)])


def test_the_ends_of_a_run_are_messages():
    assert set(FINAL) <= kinds_of_message()


@pytest.mark.parametrize("kind", sorted(kinds_of_message(), key=lambda kind: kind.kind))
def test_every_message_survives_the_trip_between_processes(kind):
    message = kind(7)
    assert pickle.loads(pickle.dumps(message)) == message
    assert message.asdict()["kind"] == kind.kind and message.asdict()["run"] == 7


def test_arrays_travel_with_their_message():
    points = np.arange(6.0).reshape(3, 2)
    message = pickle.loads(pickle.dumps(Samples(1, epoch=2, form="points", generated=points)))
    np.testing.assert_array_equal(message.generated, points)


def test_the_messages_load_without_torch():
    """The editor reads these messages; torch lives only in the worker."""
    code = "import sys, engine.training.events; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_every_command_is_acknowledged_with_the_state_it_leads_to():
    assert set(STATE_AFTER) == set(Command)


@pytest.mark.parametrize("command, obeyed", [
    (Command.PAUSE, lambda control: control.paused),
    (Command.RESUME, lambda control: not control.paused),
    (Command.STOP, lambda control: control.stopping),
    (Command.CHECKPOINT, lambda control: control.take_checkpoint_request()),
])
def test_every_command_is_obeyed(command, obeyed):
    control = Control()
    control.obey(command)
    assert control.pending and obeyed(control)
