"""Problems and summary panels show exactly what engine.check reports."""

from PySide6.QtCore import Qt
from test_app_support import make_window

from designer.undo_commands import AddNode
from designer.panels.summary import describe_size, size_in_mb
from engine import check
from engine.checking import describe


def test_problems_panel_lists_every_problem_and_a_click_reveals_its_layer(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    window.show()
    qtbot.waitExposed(window)
    document, panel = window.document, window.problems
    assert panel.model.rowCount() == 0 and "No problems" in panel.summary.text()
    add = AddNode(document.design, "Linear", "model", (0.0, 400.0))
    with qtbot.waitSignal(document.panelsReportChanged):
        document.push(add)
    expected = check(document.design).problems
    assert panel.model.rowCount() == len(expected) > 0
    messages = {panel.model.index(r, 1).data() for r in range(panel.model.rowCount())}
    assert messages == {p.message for p in expected}
    row = next(r for r in range(panel.model.rowCount())
               if panel.model.problems[r].severity == "error")
    problem = panel.model.problems[row]
    assert panel.model.index(row, 0).data() == document.design.node(problem.node).name
    assert panel.model.index(row, 2).data() == (problem.fix or "")
    assert panel.model.index(row, 0).data(Qt.ItemDataRole.DecorationRole) is not None
    document.set_selection([])
    window.show_problems()
    assert "Problems (" in window.docks["problems"].windowTitle()
    qtbot.waitUntil(lambda: not panel.view.visibleRegion().isEmpty())
    rect = panel.view.visualRect(panel.model.index(row, 1))
    with qtbot.waitSignal(document.frameRequested) as frame:
        qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert frame.args == [add.node_id]
    assert document.selection == [add.node_id]
    errors = len([p for p in expected if p.severity == "error"])
    assert panel.summary.text().startswith(f"{errors} error")


def test_clicking_a_network_problem_switches_to_that_network(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path, "gan")
    document = window.document
    output = next(n for n in document.design.nodes("discriminator")
                  if document.design.node(n).type == "Output")
    with qtbot.waitSignal(document.panelsReportChanged):
        document.design.remove(output)
    row = next(r for r, p in enumerate(window.problems.model.problems)
               if p.node is None and p.network == "discriminator")
    document.set_network("generator")
    window.problems.reveal(window.problems.model.index(row, 0))
    assert document.network == "discriminator"


def test_summary_numbers_are_the_checks(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path, "gan")
    window.show()
    document, summary = window.document, window.summary
    window.docks["summary"].raise_()
    qtbot.waitUntil(summary.isVisible)
    report = check(document.design)
    for network in document.design.networks:
        document.set_network(network)
        total = report.total_params(network)
        assert describe_size(total) in summary.totals.text()
        nodes = document.design.nodes(network)
        assert summary.model.rowCount() == len(nodes)
        for row, node in enumerate(nodes):
            cells = [summary.model.index(row, c).data() for c in range(4)]
            assert cells == [document.design.node(node).name, document.design.node(node).type,
                             describe(report.info(node)), f"{report.params(node):,}"]
    whole = sum(report.total_params(n) for n in document.design.networks)
    assert f"Whole design: {describe_size(whole)}" in summary.totals.text()
    assert abs(size_in_mb(whole) - whole * 4 / 2**20) < 1e-12


def test_summary_follows_edits(qtbot, tmp_path):
    window = make_window(qtbot, tmp_path)
    window.show()
    window.docks["summary"].raise_()
    document = window.document
    conv = document.design.find("conv1")
    document.set_selection([conv])
    with qtbot.waitSignal(document.reportChanged):
        window.inspector.fields["out_channels"].editor.field.setText("4")
        window.inspector.fields["out_channels"].editor.field.commit()
    total = check(document.design).total_params("model")
    qtbot.waitUntil(lambda: f"{total:,} parameters" in window.summary.totals.text())
