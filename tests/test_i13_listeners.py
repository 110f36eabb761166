"""Design events are typed: one class per kind of change, dispatched by type, so a misspelt kind
fails when the code loads instead of being a branch that never runs. One failing listener must
not stop the others (napari's rule): every view still hears every change, and the failure is
still reported where the change was made."""

import logging

import pytest
from event_kinds import leaf_classes

from engine import Design
from engine.events import DesignEvent, NameChanged, NetworkChange, NodeAdded, NodeChange


def broken(event):
    raise RuntimeError(f"broken view on {type(event).__name__}")


def test_a_listener_that_raises_does_not_stop_the_ones_after_it(caplog):
    design = Design()
    heard = []
    design.events.connect(broken)
    design.events.connect(heard.append)
    with (caplog.at_level(logging.ERROR, logger="engine.events"),
          pytest.raises(RuntimeError, match="broken view on NodeAdded")):
        design.add("Input", name="x")
    assert [type(event) for event in heard] == [NodeAdded]
    assert design.find("x") in design.nodes()  # the change itself stands
    assert "design listener" in caplog.text and "broken view on NodeAdded" in caplog.text


def test_several_failing_listeners_are_all_reported_together():
    design = Design()
    heard = []
    design.events.connect(broken)
    design.events.connect(heard.append)
    design.events.connect(broken)
    with pytest.raises(ExceptionGroup) as caught:
        design.set_name("renamed")
    assert len(caught.value.exceptions) == 2
    assert "2 design listeners failed on NameChanged()" in str(caught.value)
    assert heard == [NameChanged()]


@pytest.mark.parametrize("family, fields", [(DesignEvent, ()), (NetworkChange, ("main",)),
                                            (NodeChange, ("main", "n1"))])
def test_a_family_of_events_is_not_an_event(family, fields):
    with pytest.raises(TypeError, match="family of design events"):
        family(*fields)


@pytest.mark.parametrize("not_an_event", ["node_added", {"kind": "node_added"}, None])
def test_only_design_events_can_be_emitted(not_an_event):
    design = Design()
    heard = []
    design.events.connect(heard.append)
    with pytest.raises(TypeError, match="DesignEvent"):
        design.events.emit(not_an_event)
    assert heard == []


def test_the_canvas_follows_every_change_inside_a_network():
    """Adding a kind of NetworkChange without saying how the canvas draws it fails here."""
    pytest.importorskip("PySide6")
    from designer.canvas.scene import NetworkScene

    assert set(NetworkScene.FOLLOW) == leaf_classes(NetworkChange)


def test_every_kind_is_emitted_by_the_design():
    """Each leaf class is a change the design makes (no kind exists that nothing sends)."""
    design = Design()
    seen = set()
    design.events.connect(lambda event: seen.add(type(event)))
    x = design.add("Input", shape=(4,))
    y = design.add("ReLU", x)
    design.set_params(x, shape=(5,))
    design.rename(y, "act")
    design.move(y, (1, 2))
    design.disconnect(x, y)
    design.remove(y)
    design.add_network("second")
    design.remove_network("second")
    design.set_training(epochs=2)
    design.set_name("renamed")
    design.replace_with(Design())
    assert seen == leaf_classes(DesignEvent)
