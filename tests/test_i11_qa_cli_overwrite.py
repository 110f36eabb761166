"""Issue 11 item 19, judged on the other commands that write a file: `export` and `import`
refuse to replace an existing file, as `new` does, unless --force is given."""

from __future__ import annotations

from pathlib import Path

from engine.cli import main as cli_main
from engine.fileformat import save_design
from templates import load_template

MODULE = """import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(x)
"""


def kept(path: Path, capsys) -> bool:
    """Was the file left as it was, with the reason and the way out on stderr?"""
    err = capsys.readouterr().err
    return (path.read_text() == "# mine\n" and f"{path} already exists" in err
            and "--force" in err)


def test_export_refuses_to_replace_a_file_without_force(tmp_path, capsys):
    design_file = tmp_path / "mlp.ncnet"
    save_design(load_template("mlp"), design_file)
    script = tmp_path / "train_mlp.py"
    script.write_text("# mine\n")
    assert cli_main(["export", str(design_file), "-o", str(script)]) == 1
    assert kept(script, capsys)
    assert cli_main(["export", str(design_file), "-o", str(script), "--force"]) == 0
    assert "class " in script.read_text()


def test_import_refuses_to_replace_a_design_without_force(tmp_path, capsys):
    (tmp_path / "net.py").write_text(MODULE)
    design_file = tmp_path / "net.ncnet"
    design_file.write_text("# mine\n")
    command = ["import", f"{tmp_path / 'net.py'}:Net", "--input-shape", "4", "-o",
               str(design_file)]
    assert cli_main(command) == 1
    assert kept(design_file, capsys)
    assert cli_main([*command, "--force"]) == 0
    assert '"format"' in design_file.read_text()
