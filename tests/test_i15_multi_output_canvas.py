"""Issue 15, nodes with several outputs on the canvas: a port per output, labelled, wires
dragged from a given output, drawn from it and labelled with its shape, undone exactly."""

from PySide6.QtCore import QPointF
from test_canvas import drag, input_port, open_canvas

from designer.canvas.node_text import shape_text
from designer.clipboard import duplicate_command
from designer.undo_commands import SetParams
from engine import Design, check


def _chunked() -> tuple[Design, str, str]:
    design = Design("pieces")
    x = design.add("Input", shape=(6, 4), pos=(0, 0))
    chunk = design.add("Chunk", x, chunks=3, pos=(260, 0))
    relu = design.add("ReLU", pos=(560, 160))
    design.add("Output", relu, pos=(820, 160))
    design.add("Output", (chunk, 0), pos=(560, -160))
    return design, chunk, relu


def test_a_wire_dragged_from_the_second_output_leaves_it(qtbot):
    design, chunk, relu = _chunked()
    document, tabs = open_canvas(qtbot, design)
    view = tabs.current_view()
    scene = view.network_scene()
    card = scene.nodes[chunk]
    assert [port.index for port in card.output_ports] == [0, 1, 2]
    assert card.output_names == ("0", "1", "2")
    second = card.output_ports[1]
    assert card.port_tooltip(second).startswith("output 1 (N, 2, 4): drag")
    assert card.output_ports[1].scenePos().y() > card.output_ports[0].scenePos().y()

    drag(view, second.scenePos(), input_port(view, relu))
    (edge,) = design.inputs_of(relu)
    assert (edge.src, edge.out) == (chunk, 1)
    qtbot.waitUntil(lambda: edge in scene.edges)
    item = scene.edges[edge]
    assert item.label == shape_text(check(design).info(chunk, 1))
    start = second.scenePos()
    qtbot.waitUntil(lambda: item.route[0] == (start.x(), start.y()))
    assert second.connected and not card.output_ports[2].connected

    document.undo_stack.undo()
    assert design.inputs_of(relu) == []
    document.undo_stack.redo()
    assert [(e.src, e.out) for e in design.inputs_of(relu)] == [(chunk, 1)]


def test_an_output_that_a_parameter_edit_removes_is_an_error_on_its_wire(qtbot):
    design, chunk, relu = _chunked()
    design.connect(chunk, relu, 0, 2)
    document, tabs = open_canvas(qtbot, design)
    scene = tabs.current_view().network_scene()
    document.push(SetParams(design, chunk, {"chunks": 2}))
    qtbot.waitUntil(lambda: len(scene.nodes[chunk].output_ports) == 2)
    badge = scene.nodes[relu].badge
    qtbot.waitUntil(lambda: badge.severity == "error")
    assert "reads output 2 of chunk1 (Chunk), which has 2 outputs" in badge.toolTip()
    document.undo_stack.undo()
    qtbot.waitUntil(lambda: len(scene.nodes[chunk].output_ports) == 3)
    qtbot.waitUntil(lambda: badge.severity is None)


def test_duplicating_keeps_which_output_each_wire_leaves(qtbot):
    design, chunk, relu = _chunked()
    design.connect(chunk, relu, 0, 2)
    command = duplicate_command(design, [chunk, relu], QPointF(0, 400))
    command.redo()
    copies = command.new_ids
    assert [(e.src, e.out) for e in design.inputs_of(copies[relu])] == [(copies[chunk], 2)]
    command.undo()
    assert design.nodes() == _chunked()[0].nodes()
