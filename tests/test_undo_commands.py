"""Undo commands change only the design, and undo restores it exactly."""

from designer.undo_commands import AddNode, Connect, MoveNodes, RemoveNodes, Rename, SetParams
from designer.document import DesignDocument
from templates import load_template


def test_every_command_undoes_to_the_exact_design(qtbot):
    document = DesignDocument(load_template("cnn"))
    design = document.design
    before = design.to_dict()
    conv = design.find("conv2")
    pool = design.find("pool")
    document.push(SetParams(design, conv, {"out_channels": 8}))
    document.push(Rename(design, conv, "features"))
    add = AddNode(design, "Dropout", "model", (10.0, 20.0), {"p": 0.1}, inputs=[(pool, 0)])
    document.push(add)
    document.push(Connect(design, add.node_id, design.find("flatten"), 0))
    document.push(MoveNodes(design, {conv: (5.0, 5.0)}))
    document.push(RemoveNodes(design, [conv, design.find("relu1")]))
    assert design.to_dict() != before
    while document.undo_stack.canUndo():
        document.undo_stack.undo()
    assert design.to_dict() == before
    while document.undo_stack.canRedo():
        document.undo_stack.redo()
    assert not design.has_node(conv)


def test_moves_of_one_drag_merge_but_separate_drags_do_not(qtbot):
    document = DesignDocument(load_template("mlp"))
    node = document.design.nodes()[0]
    start = document.design.node(node).pos
    document.push(MoveNodes(document.design, {node: (1, 1)}, drag_id=1))
    document.push(MoveNodes(document.design, {node: (2, 2)}, drag_id=1))
    document.push(MoveNodes(document.design, {node: (3, 3)}, drag_id=2))
    assert document.undo_stack.count() == 2
    document.undo_stack.undo()
    assert document.design.node(node).pos == (2.0, 2.0)
    document.undo_stack.undo()
    assert document.design.node(node).pos == start


def test_report_follows_edits(qtbot):
    document = DesignDocument(load_template("cnn"))
    conv = document.design.find("conv1")
    with qtbot.waitSignal(document.reportChanged, timeout=2000):
        document.push(SetParams(document.design, conv, {"out_channels": 4}))
    assert document.report.shape(conv) == ("N", 4, 8, 8)
