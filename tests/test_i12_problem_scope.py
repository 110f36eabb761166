"""A problem that belongs to no node (a data file the check cannot read) is placed in "design"
wherever problems are listed: `neuralcanvas check`, the export refusal and the code view."""

from __future__ import annotations

import pytest
from test_training_support import classifier

from designer.document import DesignDocument
from designer.panels.code_view import errors_comment
from engine import DesignError, check, save_design
from engine.cli import main
from engine.codegen.export import export_script


def damaged_data_design(tmp_path):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip file at all")
    return classifier(inputs=4, classes=3, data={"source": "npz", "path": str(broken)})


def test_a_problem_without_a_node_is_placed_in_the_design(tmp_path, capsys):
    design = damaged_data_design(tmp_path)
    (problem,) = [p for p in check(design).errors if p.node is None]
    assert problem.scope == "design" and "broken.npz" in problem.message
    file = tmp_path / "net.ncnet"
    save_design(design, file)
    assert main(["check", str(file)]) == 1
    assert "[error] design: " in capsys.readouterr().out
    with pytest.raises(DesignError, match="cannot be exported: design: error: "):
        export_script(design)
    document = DesignDocument(design)
    assert "#   - design: " in errors_comment(design, document.report)
    assert "None" not in errors_comment(design, document.report)
