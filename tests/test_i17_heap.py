"""Issue 17: the objects of a large design just opened leave the garbage collector's full
passes (designer.heap), as start-up's do after the first paint, so that a full pass over
them does not stall the window while its wires are routed or an edit is checked; a small
design costs no collection."""

import gc

import pytest
from test_app_support import make_window

from designer import heap
from engine import Design


def chain(length: int) -> Design:
    design = Design()
    previous = design.add("Input", shape=(8,), pos=(0, 0))
    for index in range(length):
        previous = design.add("Linear", previous, out_features=8, pos=(260 * (index + 1), 0))
    design.add("Output", previous, pos=(260 * (length + 1), 0))
    return design


@pytest.fixture
def unfrozen_after():
    yield
    gc.unfreeze()   # the rest of the suite runs as it did


def test_opening_a_large_design_freezes_its_objects_and_a_small_one_collects_nothing(
        qtbot, tmp_path, monkeypatch, unfrozen_after):
    window = make_window(qtbot, tmp_path)
    settled = []
    real = heap.settle_long_lived_objects
    monkeypatch.setattr(heap, "settle_long_lived_objects",
                        lambda: (settled.append(1), real()))
    window.show_design(chain(5), None)
    assert settled == []
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    window.show_design(chain(heap.LARGE_DESIGN_NODES), None)
    assert settled == [1]
    scene = window.tabs.current_view().network_scene()
    assert len(scene.nodes) > heap.LARGE_DESIGN_NODES
    assert gc.get_freeze_count() > 10 * len(scene.nodes)   # the design's objects among them


def test_a_replaced_designs_cycles_are_collected_when_the_next_is_settled(unfrozen_after):
    class Cycle:
        pass

    first = Cycle()
    first.me = first
    gc.freeze()   # as after an earlier open
    del first
    collected = []
    gc.callbacks.append(lambda phase, info: collected.append(info.get("collected", 0))
                        if phase == "stop" else None)
    try:
        heap.settle_long_lived_objects()
    finally:
        gc.callbacks.pop()
    assert sum(collected) >= 1
