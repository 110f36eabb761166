"""The reference is written from the declarations, so it lists every field and stays current."""

from pathlib import Path

from engine.cli import main
from engine.layers import all_layers
from engine.reference import reference_text
from engine.training.settings import schema

DOCS = Path(__file__).parent.parent / "docs" / "reference.md"


def test_the_reference_names_every_layer_parameter_and_setting():
    text = reference_text()
    for spec in all_layers():
        assert f"#### {spec.name}\n" in text
        for param in spec.params:
            assert f"| `{param.name}` | {param.kind} |" in text
    for path, setting in schema().items():
        assert f"| `{path}` | {setting.kind} |" in text
    assert "| `optimizer.lr` | float | `0.001` | greater than 0 | learning rate |" in text


def test_the_shipped_reference_is_current():
    assert DOCS.read_text(encoding="utf-8") == reference_text(), (
        "docs/reference.md is out of date: run `neuralcanvas reference -o docs/reference.md "
        "--force`")


def test_the_command_prints_it_and_refuses_to_overwrite(tmp_path, capsys):
    assert main(["reference"]) == 0
    assert capsys.readouterr().out == reference_text()
    target = tmp_path / "reference.md"
    assert main(["reference", "-o", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == reference_text()
    assert main(["reference", "-o", str(target)]) == 1
    assert main(["reference", "-o", str(target), "--force"]) == 0
