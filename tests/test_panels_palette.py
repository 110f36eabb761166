"""The layer palette: search, tooltips, double-click to add, drag data for the canvas."""

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from test_app_support import make_window

from designer.canvas import LAYER_MIME
from designer.main_window import MainWindow
from engine import Design
from engine.layers import all_layers, categories, get_layer


def _shown_window(qtbot, tmp_path) -> MainWindow:
    """A main window on screen: clicks and drops need visible widgets."""
    window = make_window(qtbot, tmp_path)
    window.show()
    qtbot.waitExposed(window)
    return window


def _types_added(design: Design, before: set[str]) -> list[str]:
    """The layer types of the nodes in the model network that are not in `before`."""
    return [design.node(n).type for n in set(design.nodes("model")) - before]


def test_palette_lists_the_whole_catalogue_with_explanations_as_tooltips(qtbot, tmp_path):
    palette = make_window(qtbot, tmp_path).palette_panel
    assert palette.visible_layers() == [spec.name for specs in categories().values()
                                        for spec in specs]
    for spec in all_layers():
        assert spec.explanation in palette.item_for(spec.name).toolTip(0)


def test_search_matches_names_and_explanations(qtbot, tmp_path):
    palette = make_window(qtbot, tmp_path).palette_panel
    qtbot.keyClicks(palette.search, "lstm")
    assert "LSTM" in palette.visible_layers()
    assert "Conv2d" not in palette.visible_layers()
    palette.search.clear()
    qtbot.keyClicks(palette.search, "residual")  # only in explanations
    shown = palette.visible_layers()
    assert "Add" in shown and "Linear" not in shown
    assert all("residual" in get_layer(name).explanation.lower() for name in shown)
    palette.search.setText("no layer is called this")
    assert palette.visible_layers() == []
    assert all(palette.tree.topLevelItem(i).isHidden()
               for i in range(palette.tree.topLevelItemCount()))
    palette.search.clear()
    assert len(palette.visible_layers()) == len(all_layers())


def test_double_click_adds_the_layer_to_the_current_network(qtbot, tmp_path):
    window = _shown_window(qtbot, tmp_path)
    design, palette = window.document.design, window.palette_panel
    before = set(design.nodes("model"))
    item = palette.item_for("Dropout")
    palette.tree.scrollToItem(item)
    centre = palette.tree.visualItemRect(item).center()
    qtbot.mouseClick(palette.tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseDClick(palette.tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert _types_added(design, before) == ["Dropout"]
    window.document.undo_stack.undo()
    assert set(design.nodes("model")) == before


def test_return_in_the_search_box_adds_the_first_match(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    design = window.document.design
    count = len(design.nodes("model"))
    qtbot.keyClicks(window.palette_panel.search, "batchnorm2")
    qtbot.keyClick(window.palette_panel.search, Qt.Key.Key_Return)
    assert len(design.nodes("model")) == count + 1
    assert design.node(design.nodes("model")[-1]).type == "BatchNorm2d"


def test_dragging_a_layer_carries_its_type_name(qtbot, tmp_path):
    palette = make_window(qtbot, tmp_path).palette_panel
    data = palette.tree.mimeData([palette.item_for("Conv2d")])
    assert bytes(data.data(LAYER_MIME)).decode("utf-8") == "Conv2d"
    category = palette.tree.topLevelItem(0)
    assert not category.flags() & Qt.ItemFlag.ItemIsDragEnabled


def test_a_palette_drag_dropped_on_the_canvas_adds_the_layer_there(qtbot, tmp_path):
    window = _shown_window(qtbot, tmp_path)
    design, palette = window.document.design, window.palette_panel
    before = set(design.nodes("model"))
    data = palette.tree.mimeData([palette.item_for("Conv2d")])
    viewport = window.tabs.current_view().viewport()
    point = viewport.rect().center()
    action, button = Qt.DropAction.CopyAction, Qt.MouseButton.LeftButton
    none = Qt.KeyboardModifier.NoModifier
    QApplication.sendEvent(viewport, QDragEnterEvent(point, action, data, button, none))
    QApplication.sendEvent(viewport, QDragMoveEvent(point, action, data, button, none))
    QApplication.sendEvent(viewport, QDropEvent(QPointF(point), action, data, button, none))
    assert _types_added(design, before) == ["Conv2d"]
