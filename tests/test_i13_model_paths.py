"""Issue 13, edits that bypassed the model: undoing the first edit of a training setting goes
through Design.unset_training with an event that names it, and Save As names the design in an
undo step (undoing it brings the old name back and marks the design changed)."""

from __future__ import annotations

from test_app_support import ScriptedDialogs, make_window

from designer.document import DesignDocument
from designer.training.setting_undo import SetTrainingValue
from engine import Design
from engine.events import TrainingChanged


def test_undoing_a_first_setting_edit_removes_it_through_the_design_with_an_event():
    design = Design()
    document = DesignDocument(design)
    heard: list[TrainingChanged] = []
    document.designChanged.connect(
        lambda event: heard.append(event) if isinstance(event, TrainingChanged) else None)
    document.push(SetTrainingValue(design, "grad_clip", 1.0))
    assert design.training["grad_clip"] == 1.0
    document.undo_stack.undo()
    assert "grad_clip" not in design.training
    assert heard[-1] == TrainingChanged(removed=("grad_clip",))
    document.undo_stack.redo()
    assert design.training["grad_clip"] == 1.0 and heard[-1].values == {"grad_clip": 1.0}


def test_save_as_names_the_design_in_an_undo_step(qtbot, tmp_path):
    target = tmp_path / "mine.ncnet"
    window = make_window(qtbot, tmp_path, dialogs=ScriptedDialogs(save_path=target))
    document = window.document
    old_name, steps = document.design.name, document.undo_stack.count()
    assert old_name != "mine"
    assert window.save_as()
    assert document.design.name == "mine" and target.is_file()
    assert document.undo_stack.count() == steps + 1
    assert document.undo_stack.isClean()
    assert "mine" in window.windowTitle()
    document.undo_stack.undo()
    assert document.design.name == old_name
    assert not document.undo_stack.isClean()
    assert old_name in window.windowTitle()
