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


def test_processes_the_machine_cannot_run_are_refused_once_its_devices_are_known(qtbot):
    document = DesignDocument(load_template("mlp"))
    form = SettingsForm(document)
    qtbot.addWidget(form)
    assert "batch size is per process" in form.fields["processes"].help
    assert "each drives one GPU" in form.fields["processes"].help
    form.set_devices([("cuda:0", "GPU A"), ("cuda:1", "GPU B"), ("cpu", "CPU (8 threads)")])
    assert form.apply("processes", 2)   # auto: CUDA, one process per GPU
    assert not form.apply("processes", 3)
    assert form.message.text() == ("Processes (Setup > Device) is 3 but this machine has 2 "
                                   "CUDA devices; each process drives one GPU")
    assert form.editors["processes"].refused
    assert not form.apply("device", "cuda:1")   # each process takes the GPU of its rank
    assert "choose device 'cuda' or 'auto'" in form.message.text()
    assert form.apply("device", "cpu") and form.apply("processes", 3)   # they share the CPU
    assert document.design.training["processes"] == 3


def test_apple_mps_trains_in_one_process(qtbot):
    document = DesignDocument(load_template("mlp"))
    form = SettingsForm(document)
    qtbot.addWidget(form)
    form.set_devices([("mps", "Apple GPU (MPS)"), ("cpu", "CPU (8 threads)")])
    assert not form.apply("processes", 2)
    assert "Apple's MPS trains in one process" in form.message.text()
    assert form.apply("device", "cpu") and form.apply("processes", 2)
