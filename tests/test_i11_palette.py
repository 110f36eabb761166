"""Issue 11 items 11, 12 and 13 (palette): name matches first and apart; no cut names;
every entry explains itself in a tooltip."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QStyle
from test_app_support import make_window

from designer.panels.palette import (
    BUILT_IN_BLOCKS,
    DESCRIPTION_MATCHES,
    DESIGN_BLOCKS,
    NAME_MATCHES,
)
from engine.layers import all_layers, get_layer


def groups_shown(palette) -> dict[str, list[str]]:
    """Each visible top-level group of layers: its title and the layer names listed under it
    (the block groups below them aside)."""
    tree = palette.tree
    shown = {}
    for index in range(tree.topLevelItemCount()):
        group = tree.topLevelItem(index)
        if not group.isHidden() and group.text(0) not in (DESIGN_BLOCKS, BUILT_IN_BLOCKS):
            shown[group.text(0)] = [group.child(i).text(0) for i in range(group.childCount())
                                    if not group.child(i).isHidden()]
    return shown


def test_lin_lists_linear_first_and_the_description_matches_apart(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    palette = window.palette_panel
    qtbot.keyClicks(palette.search, "lin")
    shown = groups_shown(palette)
    assert list(shown) == [NAME_MATCHES, DESCRIPTION_MATCHES]
    assert shown[NAME_MATCHES] == ["Linear"]
    assert {"Conv2d", "Dropout", "Hardswish"} <= set(shown[DESCRIPTION_MATCHES])
    assert all("lin" not in name.lower() for name in shown[DESCRIPTION_MATCHES])
    assert palette.visible_layers()[0] == "Linear"
    assert palette.tree.currentItem().text(0) == "Linear"  # what Enter will add
    design = window.document.design
    count = len(design.nodes("model"))
    qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    assert len(design.nodes("model")) == count + 1
    assert design.node(design.nodes("model")[-1]).type == "Linear"


def test_names_starting_with_the_query_come_first_and_clearing_restores_categories(
        qtbot, tmp_path):
    palette = make_window(qtbot, tmp_path).palette_panel
    qtbot.keyClicks(palette.search, "pool")
    names = groups_shown(palette)[NAME_MATCHES]
    assert names and all("pool" in name.lower() for name in names)
    qtbot.keyClick(palette.search, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(palette.search, Qt.Key.Key_Backspace)
    qtbot.keyClicks(palette.search, "norm")
    names = groups_shown(palette)[NAME_MATCHES]
    assert names == sorted(names, key=lambda n: not n.lower().startswith("norm"))
    palette.search.clear()
    shown = groups_shown(palette)
    assert NAME_MATCHES not in shown and DESCRIPTION_MATCHES not in shown
    assert sum(len(names) for names in shown.values()) == len(all_layers())


def test_search_results_drag_and_explain_like_the_catalogue(qtbot, tmp_path):
    palette = make_window(qtbot, tmp_path).palette_panel
    qtbot.keyClicks(palette.search, "attention")
    item = palette.tree.currentItem()
    assert item.text(0) == "MultiheadAttention"
    assert get_layer("MultiheadAttention").explanation in item.toolTip(0)
    data = palette.tree.mimeData([item])
    assert data.text() == "MultiheadAttention"


def test_no_entry_is_cut_short_and_each_has_a_tooltip_with_its_whole_name(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    tree = window.palette_panel.tree
    metrics = QFontMetrics(tree.font())
    margin = 2 * (tree.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, tree) + 1)
    for spec in all_layers():
        item = window.palette_panel.item_for(spec.name)
        tip = item.toolTip(0)
        assert f"<b>{spec.name}</b>" in tip and spec.explanation in tip, spec.name
        tree.scrollToItem(item)
        room = tree.visualItemRect(item).width()
        assert metrics.horizontalAdvance(spec.name) + margin <= room, (spec.name, room)
