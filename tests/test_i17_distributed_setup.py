"""Issue 17: the Setup tab offers the number of training processes on this machine (the
`processes` setting, which `neuralcanvas train` reads when no --nproc-per-node is given)."""

from designer.document import DesignDocument
from designer.training.settings_form import SettingsForm
from engine.training.labels import setting_place
from templates import load_template


def test_the_setup_tab_offers_processes_beside_the_device(qtbot):
    document = DesignDocument(load_template("mlp"))
    form = SettingsForm(document)
    qtbot.addWidget(form)
    layout, field = form.rows["processes"]
    assert layout is form.rows["device"][0]   # in the Device group
    assert layout.labelForField(field).text() == "Processes"
    assert setting_place("processes") == "Processes (Setup > Device)"
    assert form.editors["processes"].value() == 1
    assert form.apply("processes", 2)
    assert document.design.training["processes"] == 2
    assert not form.apply("processes", 0)
    assert "at least 1" in form.message.text()
    assert document.design.training["processes"] == 2
