"""`neuralcanvas export`: a script or an ONNX file; bad input exits 2 with a clear message."""

import subprocess
import sys

import engine
from engine import cli
from engine.codegen.export import generate_code
from templates import load_template


def run_cli(*args: str) -> subprocess.CompletedProcess:
    code = "import sys; from engine.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=300, check=False)


def test_export_writes_the_generated_script(tmp_path, capsys):
    engine.save_design(load_template("cnn"), tmp_path / "cnn.ncnet")
    assert cli.main(["export", str(tmp_path / "cnn.ncnet"), "-o", str(tmp_path / "cnn.py")]) == 0
    written = (tmp_path / "cnn.py").read_text(encoding="utf-8")
    assert written == generate_code(load_template("cnn"))
    assert "cnn.py" in capsys.readouterr().out


def test_export_problems_exit_2_with_the_reason(tmp_path):
    missing = run_cli("export", str(tmp_path / "missing.ncnet"), "-o", str(tmp_path / "x.py"))
    assert missing.returncode == 2 and "missing.ncnet" in missing.stderr
    broken = engine.Design()
    x = broken.add("Input", shape=(10,))
    broken.add("Output", broken.add("Conv2d", x, name="conv"))
    engine.save_design(broken, tmp_path / "broken.ncnet")
    result = run_cli("export", str(tmp_path / "broken.ncnet"), "-o", str(tmp_path / "x.py"))
    assert result.returncode == 2 and "conv" in result.stderr
    for failed in (missing, result):
        assert "Traceback" not in failed.stderr
    assert not (tmp_path / "x.py").exists()


def test_onnx_export_without_the_extra_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    import importlib.util

    from engine import export_onnx

    real = importlib.util.find_spec
    monkeypatch.setattr(export_onnx.importlib.util, "find_spec",
                        lambda name, *rest: None if name.startswith("onnx") else real(name))
    engine.save_design(load_template("mlp"), tmp_path / "mlp.ncnet")
    code = cli.main(["export", str(tmp_path / "mlp.ncnet"), "-o", str(tmp_path / "mlp.onnx")])
    assert code == 2
    assert 'pip install "neuralcanvas[onnx]"' in capsys.readouterr().err
    assert not (tmp_path / "mlp.onnx").exists()
