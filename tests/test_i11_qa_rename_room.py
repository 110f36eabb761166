"""Issue 11 item 12, judged with long names typed by a user: a name that widens its card (in
the inspector's Name field or by double-clicking the header) moves the cards after it in its
row, in the same undo step, so no card ends on top of another."""

from __future__ import annotations

import itertools

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QLineEdit
from test_app_support import make_window
from test_canvas import rename_by_double_click

from designer.canvas.card_room import room_for_wider_card


def overlapping(window) -> list[tuple[str, str]]:
    scene = window.tabs.current_view().network_scene()
    cards = {item.name: item.mapRectToScene(item.card_rect()) for item in scene.nodes.values()}
    return [(a, b) for a, b in itertools.combinations(cards, 2) if cards[a].intersects(cards[b])]


def positions(window) -> dict[str, tuple[float, float]]:
    design = window.document.design
    return {n: design.node(n).pos for n in design.nodes(window.document.network)}


def type_name_in_inspector(qtbot, window, node_id: str, name: str) -> None:
    window.document.set_selection([node_id])
    [field] = [w for w in window.inspector.findChildren(QLineEdit) if w.accessibleName() == "Name"]
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(field, name)
    qtbot.keyClick(field, Qt.Key.Key_Return)


@pytest.mark.parametrize("template, layer", [("mlp", "hidden1"), ("cnn", "bn1"),
                                             ("rnn", "lstm"), ("resnet", "stem")])
def test_a_long_name_typed_in_the_inspector_moves_the_row_not_onto_a_card(qtbot, tmp_path,
                                                                         template, layer):
    window = make_window(qtbot, tmp_path, template)
    window.show()
    qtbot.waitExposed(window)
    node = window.document.design.find(layer)
    before = positions(window)
    type_name_in_inspector(qtbot, window, node, f"the_{layer}_layer_of_this_network")
    assert window.document.design.node(node).name == f"the_{layer}_layer_of_this_network"
    assert overlapping(window) == []
    window.document.undo_stack.undo()  # one step takes back the name and the moves
    assert window.document.design.node(node).name == layer and positions(window) == before


def test_a_long_name_given_on_the_canvas_moves_the_row_too(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path, "mlp")
    window.show()
    qtbot.waitExposed(window)
    node = window.document.design.find("relu1")
    rename_by_double_click(window.tabs.current_view(), node, "activation_after_the_first_layer")
    assert window.document.design.node(node).name == "activation_after_the_first_layer"
    assert overlapping(window) == []


def test_nothing_moves_while_the_wider_card_covers_nothing():
    card, far = QRectF(0, 0, 100, 50), {"far": QRectF(400, 0, 100, 50)}
    assert room_for_wider_card(card, 200, far) == {}
    assert room_for_wider_card(card, 80, {"near": QRectF(110, 0, 100, 50)}) == {}
    row = {"near": QRectF(110, 0, 100, 50), "next": QRectF(230, 0, 100, 50),
           "below": QRectF(110, 90, 100, 50)}
    assert room_for_wider_card(card, 150, row) == {"near": 50, "next": 50}
