"""Issue 11 item 12 (tables): the Problems and Summary tables show their text whole.

Columns cover their content and use the panel's width; long problem text wraps when the
panel is narrow; a cell that is still cut short shows its whole text as a tooltip.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip
from test_app_support import make_window

from designer.undo_commands import AddNode
from designer.document import DesignDocument
from designer.panels.problems import COLUMNS as PROBLEM_COLUMNS
from designer.panels.problems import ProblemsPanel
from designer.panels.summary import SummaryPanel
from designer.panels.table_text import share_width
from templates import load_template


def with_loose_layers() -> DesignDocument:
    """The cnn plus two unconnected layers with long names: two errors, two warnings."""
    document = DesignDocument(load_template("cnn"))
    for layer in ("Linear", "TransformerEncoderLayer"):
        document.push(AddNode(document.design, layer, "model", (900.0, 300.0)))
    document.recheck()
    return document


def cells(view):
    model = view.model()
    return [model.index(row, column) for row in range(model.rowCount())
            for column in range(model.columnCount())]


def assert_nothing_cut(view) -> None:
    delegate = view.itemDelegate()
    cut = [index.data() for index in cells(view) if delegate.is_cut(index)]
    assert cut == []


def assert_columns_cover_content_and_width(view, content: list[int]) -> None:
    header = view.header()
    widths = [header.sectionSize(c) for c in range(header.count())]
    assert all(width >= needed for width, needed in zip(widths, content)), (widths, content)
    assert sum(widths) >= view.viewport().width() - 1


def shown_at_normal_size(qtbot, tmp_path, dock: str):
    window = make_window(qtbot, tmp_path)
    for layer in ("Linear", "TransformerEncoderLayer"):
        window.document.push(AddNode(window.document.design, layer, "model", (900.0, 300.0)))
    window.document.recheck()
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    window.docks[dock].raise_()
    return window


def test_problems_table_shows_problem_and_fix_whole_at_a_normal_width(qtbot, tmp_path):
    window = shown_at_normal_size(qtbot, tmp_path, "problems")
    view = window.problems.view
    qtbot.waitUntil(lambda: view.model().rowCount() == 4)
    qtbot.waitUntil(lambda: view.isVisible())
    assert_nothing_cut(view)
    assert_columns_cover_content_and_width(view, window.problems.columns.content_widths())


def test_summary_table_uses_the_whole_width_and_covers_its_content(qtbot, tmp_path):
    window = shown_at_normal_size(qtbot, tmp_path, "summary")
    view = window.summary.table
    qtbot.waitUntil(lambda: view.model().rowCount() == len(window.document.design.nodes("model")))
    assert_nothing_cut(view)
    assert_columns_cover_content_and_width(view, window.summary.columns.content_widths())


def test_a_narrow_problems_panel_wraps_long_problems_instead_of_cutting_them(qtbot):
    panel = ProblemsPanel(with_loose_layers())
    qtbot.addWidget(panel)
    panel.resize(520, 400)
    panel.show()
    qtbot.waitExposed(panel)
    view = panel.view
    problem = PROBLEM_COLUMNS.index("Problem")
    long_row = max(range(view.model().rowCount()),
                   key=lambda row: len(view.model().index(row, problem).data()))
    index = view.model().index(long_row, problem)
    line = view.fontMetrics().height()
    qtbot.waitUntil(lambda: view.visualRect(index).height() >= 2 * line)  # wrapped, row grew
    assert_nothing_cut(view)


def test_a_cell_cut_short_shows_its_whole_text_as_a_tooltip(qtbot):
    panel = SummaryPanel(with_loose_layers())
    qtbot.addWidget(panel)
    panel.set_shown(True)
    panel.resize(260, 400)
    panel.show()
    qtbot.waitExposed(panel)
    view = panel.table
    model = view.model()
    row = next(r for r in range(model.rowCount())
               if model.index(r, 1).data() == "TransformerEncoderLayer")
    index = model.index(row, 1)
    view.header().resizeSection(1, 60)  # as when the panel is squeezed or a column dragged
    assert view.itemDelegate().is_cut(index)
    centre = view.visualRect(index).center()
    QApplication.sendEvent(view.viewport(), QHelpEvent(QEvent.Type.ToolTip, centre,
                                                       view.viewport().mapToGlobal(centre)))
    qtbot.waitUntil(QToolTip.isVisible)
    assert QToolTip.text() == "TransformerEncoderLayer"
    QToolTip.hideText()
    fits = model.index(row, 3)  # "?" fits: no tooltip of its own
    assert not view.itemDelegate().is_cut(fits)


def test_width_sharing_rule():
    assert share_width([50, 100, 100], {1, 2}, 350) == [50, 150, 150]
    assert share_width([50, 300, 100], {1, 2}, 250) == [50, 150, 80]
    assert share_width([50, 60], set(), 500) == [50, 60]
