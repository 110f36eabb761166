"""Design events are typed: one class per kind of change, dispatched by type, so a misspelt kind
fails when the code loads instead of being a branch that never runs. One failing listener must
not stop the others (napari's rule): every view still hears every change, and the failure is
still reported where the change was made."""

import logging

import pytest
from event_kinds import leaf_classes

from engine import Design, events
from engine.blocks.definitions import argument


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
    assert [type(event) for event in heard] == [events.NodeAdded]
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
    assert heard == [events.NameChanged()]


@pytest.mark.parametrize("family, fields", [(events.DesignEvent, ()),
                                            (events.NetworkChange, ("main",)),
                                            (events.NodeChange, ("main", "n1")),
                                            (events.NetworkListChange, ("main",)),
                                            (events.BlockChange, ("Unit",))])
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

    assert set(NetworkScene.FOLLOW) == leaf_classes(events.NetworkChange)


def test_the_design_announces_every_edit_and_every_kind_is_sent():
    """In order (a removed node's edges go first); and no kind exists that nothing sends."""
    design = Design()
    seen = []
    design.events.connect(lambda event: seen.append(type(event)))
    x = design.add("Input", shape=(4,))
    y = design.add("ReLU", x)
    design.set_params(x, shape=(5,))
    design.rename(y, "act")
    design.move(y, (1, 2))
    design.remove(y)
    design.add_network("second")
    design.remove_network("second")
    design.add_block("Unit")
    design.set_block_arguments("Unit", [argument("width", "int", 4)])
    design.remove_block("Unit")
    design.set_training(epochs=2)
    design.set_name("renamed")
    design.replace_with(Design())
    assert [kind.__name__ for kind in seen] == [
        "NodeAdded", "NodeAdded", "EdgeAdded", "ParamsChanged", "NodeRenamed", "NodeMoved",
        "EdgeRemoved", "NodeRemoved", "NetworkAdded", "NetworkRemoved", "BlockAdded",
        "BlockArgumentsChanged", "BlockRemoved", "TrainingChanged",
        "NameChanged", "Reset"]
    assert set(seen) == leaf_classes(events.DesignEvent)
