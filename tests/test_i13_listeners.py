"""One failing listener must not stop the others (napari's rule): every view still hears every
change, and the failure is still reported where the change was made."""

import logging

import pytest

from engine import Design


def broken(event):
    raise RuntimeError(f"broken view on {event.kind}")


def test_a_listener_that_raises_does_not_stop_the_ones_after_it(caplog):
    design = Design()
    heard = []
    design.events.connect(broken)
    design.events.connect(heard.append)
    with (caplog.at_level(logging.ERROR, logger="engine.events"),
          pytest.raises(RuntimeError, match="broken view on node_added")):
        design.add("Input", name="x")
    assert [event.kind for event in heard] == ["node_added"]
    assert design.find("x") in design.nodes()  # the change itself stands
    assert "design listener" in caplog.text and "broken view on node_added" in caplog.text


def test_several_failing_listeners_are_all_reported_together():
    design = Design()
    heard = []
    design.events.connect(broken)
    design.events.connect(heard.append)
    design.events.connect(broken)
    with pytest.raises(ExceptionGroup) as caught:
        design.set_name("renamed")
    assert len(caught.value.exceptions) == 2
    assert "2 design listeners failed on 'name_changed'" in str(caught.value)
    assert [event.kind for event in heard] == ["name_changed"]

