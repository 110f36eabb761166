"""Copy, cut and paste of node sets through the system clipboard, within one design and into
another window's design."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, QMimeData, QPointF, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from test_canvas import click, open_canvas

from designer.clipboard import NODES_MIME, node_set_json, nodes_from_json
from engine import DesignError
from templates import load_template, template_path


def select_by_clicks(view, node_ids: list[str]) -> None:
    scene = view.network_scene()
    for index, node_id in enumerate(node_ids):
        item = scene.nodes[node_id]
        modifiers = Qt.KeyboardModifier.ControlModifier if index else Qt.KeyboardModifier.NoModifier
        click(view, item.mapToScene(item.title_rect().center()), modifiers)


def copy(view) -> None:
    QTest.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)


def paste(view) -> None:
    QTest.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)


def test_copy_puts_our_format_and_readable_json_on_the_system_clipboard(qtbot):
    document, tabs = open_canvas(qtbot, load_template("cnn"))
    view = tabs.current_view()
    design = document.design
    chosen = [design.find("conv1"), design.find("bn1")]
    select_by_clicks(view, chosen)
    copy(view)
    data = QGuiApplication.clipboard().mimeData()
    assert data.hasFormat(NODES_MIME)
    payload = json.loads(bytes(data.data(NODES_MIME)).decode("utf-8"))
    (content,) = payload["networks"].values()
    assert [n["name"] for n in content["nodes"]] == ["conv1", "bn1"]
    assert content["edges"] == [{"src": chosen[0], "dst": chosen[1], "port": 0}]
    assert json.loads(data.text()) == payload


def test_paste_in_the_same_design_renames_rewires_selects_and_undoes_in_one_step(qtbot):
    document, tabs = open_canvas(qtbot, load_template("cnn"))
    view = tabs.current_view()
    design = document.design
    conv, bn = design.find("conv1"), design.find("bn1")
    select_by_clicks(view, [conv, bn])
    copy(view)
    count = document.undo_stack.count()
    paste(view)
    assert document.undo_stack.count() == count + 1
    new_conv, new_bn = design.find("conv3"), design.find("bn3")
    assert document.selection == [new_conv, new_bn]
    assert design.node(new_conv).params == design.node(conv).params
    assert [e.src for e in design.inputs_of(new_bn)] == [new_conv]
    assert set(view.network_scene().nodes) == set(design.nodes())
    document.undo_stack.undo()
    assert len(design.nodes()) == 12


def test_paste_into_another_window_keeps_names_params_and_wires(qtbot):
    source_doc, source_tabs = open_canvas(qtbot, load_template("cnn"))
    source = source_doc.design
    chosen = [source.find(n) for n in ("conv2", "bn2", "relu2", "pool")]
    select_by_clicks(source_tabs.current_view(), chosen)
    copy(source_tabs.current_view())

    target_doc, target_tabs = open_canvas(qtbot, load_template("rnn"))
    target = target_doc.design
    before = set(target.nodes())
    assert not {"conv2", "bn2", "relu2", "pool"} & {target.node(n).name for n in before}
    paste(target_tabs.current_view())
    pasted = [n for n in target.nodes() if n not in before]
    assert [target.node(n).name for n in pasted] == ["conv2", "bn2", "relu2", "pool"]
    assert [target.node(n).params for n in pasted] == [source.node(n).params for n in chosen]
    inner = [(target.node(e.src).name, target.node(e.dst).name)
             for n in pasted for e in target.inputs_of(n)]
    assert inner == [("conv2", "bn2"), ("bn2", "relu2"), ("relu2", "pool")]
    assert target_doc.selection == pasted
    assert source.to_dict() == load_template("cnn").to_dict()


def test_cut_removes_and_paste_brings_back_in_another_network(qtbot):
    document, tabs = open_canvas(qtbot, load_template("gan"))
    design = document.design
    view = tabs.current_view()
    hidden = design.find("g_hidden2")
    select_by_clicks(view, [hidden])
    QTest.keyClick(view, Qt.Key.Key_X, Qt.KeyboardModifier.ControlModifier)
    assert not design.has_node(hidden)
    tabs.setCurrentIndex(1)
    paste(tabs.current_view())
    pasted = design.find("g_hidden2")
    assert design.network_of(pasted) == "discriminator"


def test_a_whole_design_file_copied_as_text_pastes_its_layers(qtbot):
    document, tabs = open_canvas(qtbot)
    QGuiApplication.clipboard().setText(template_path("mlp").read_text(encoding="utf-8"))
    paste(tabs.current_view())
    assert [document.design.node(n).type for n in document.design.nodes()] == \
        [document.design.node(n).type for n in load_template("mlp").nodes()]


@pytest.mark.parametrize(("payload", "complaint"), [
    (b"{not json", "not valid JSON"),
    (json.dumps({"format": "neuralcanvas.design", "schema_version": 1, "networks": {
        "m": {"nodes": [{"id": "a", "type": "Warp", "name": "w", "params": {}, "pos": [0, 0]}],
              "edges": []}}}).encode(), "unknown layer type 'Warp'"),
])
def test_a_damaged_payload_is_refused_with_a_reason_and_changes_nothing(qtbot, payload,
                                                                          complaint):
    document, tabs = open_canvas(qtbot, load_template("mlp"))
    before = document.design.to_dict()
    data = QMimeData()
    data.setData(NODES_MIME, QByteArray(payload))
    QGuiApplication.clipboard().setMimeData(data)
    with qtbot.waitSignal(tabs.message, timeout=1000) as said:
        paste(tabs.current_view())
    assert complaint in said.args[0] and "the clipboard" in said.args[0]
    assert document.design.to_dict() == before
    assert document.undo_stack.count() == 0


def test_paste_without_layers_on_the_clipboard_says_so(qtbot):
    document, tabs = open_canvas(qtbot)
    QGuiApplication.clipboard().setText("hello")
    with qtbot.waitSignal(tabs.message, timeout=1000) as said:
        paste(tabs.current_view())
    assert "no layers" in said.args[0]
    assert document.design.nodes() == []


def test_node_set_round_trips_without_qt_widgets():
    design = load_template("rnn")
    ids = design.nodes()[:2]
    nodes, edges = nodes_from_json(node_set_json(design, ids))
    assert [n.id for n in nodes] == ids
    assert [(e.src, e.dst) for e in edges] == [(ids[0], ids[1])]
    with pytest.raises(DesignError, match="nothing is selected"):
        node_set_json(design, [])


def test_paste_lands_at_the_cursor_when_it_is_over_the_canvas(qtbot):
    document, tabs = open_canvas(qtbot, load_template("mlp"))
    view = tabs.current_view()
    design = document.design
    first = design.nodes()[0]
    select_by_clicks(view, [first])
    copy(view)
    view.centerOn(view.network_scene().items_rect().bottomLeft() + QPointF(0, 400))  # free
    QTest.mouseMove(view.viewport(), view.viewport().rect().center())
    paste(view)
    pasted = document.selection[0]
    item = view.network_scene().nodes[pasted]
    centre = view.mapToScene(view.viewport().rect().center())
    header = item.mapToScene(item.title_rect().center())
    assert abs(header.x() - centre.x()) < 30 and abs(header.y() - centre.y()) < 30
    assert design.node(pasted).pos == (item.pos().x(), item.pos().y())
    assert isinstance(item.pos(), QPointF)


_COPY_IN_ONE_PROCESS = """
import sys
from PySide6.QtCore import QSocketNotifier
from PySide6.QtWidgets import QApplication
app = QApplication([])
from designer.clipboard import copy_to_clipboard
from templates import load_template
design = load_template("cnn")
copy_to_clipboard(design, [design.find("conv1"), design.find("bn1")])
print("copied", flush=True)
# Serve the X11 selection until the other process has pasted and stdin says so.
done = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
done.activated.connect(app.quit)
app.exec()
"""

_PASTE_IN_ANOTHER = """
from PySide6.QtWidgets import QApplication
app = QApplication([])
from designer.clipboard import clipboard_json, nodes_from_json
nodes, edges = nodes_from_json(clipboard_json())
print([n.name for n in nodes], len(edges))
"""

_DRIVER = """
import subprocess, sys
copier = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True)
assert copier.stdout.readline().strip() == "copied"
pasted = subprocess.run([sys.executable, "-c", sys.argv[2]], capture_output=True, text=True)
copier.communicate("done\\n", timeout=30)
print(pasted.stdout, pasted.stderr)
"""


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs xvfb-run for an X11 server")
def test_copy_in_one_process_pastes_in_another_through_the_x11_clipboard(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(Path(__file__).parents[1])}
    result = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 800x600x24", sys.executable, "-c", _DRIVER,
         _COPY_IN_ONE_PROCESS, _PASTE_IN_ANOTHER],
        check=False, capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    assert "['conv1', 'bn1'] 1" in result.stdout, result.stdout + result.stderr
