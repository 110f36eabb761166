"""The headless command line: templates, new, check, and exit codes."""

import subprocess
import sys

import pytest

from engine import cli


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True,
                          text=True, timeout=120)


def test_templates_lists_each_with_a_line(capsys):
    assert cli.main(["templates"]) == 0
    out = capsys.readouterr().out
    for name in ("mlp", "cnn", "rnn", "gan"):
        assert any(line.startswith(name + " ") and len(line) > 20 for line in out.splitlines())


def test_new_then_check_prints_tables(tmp_path, capsys):
    target = tmp_path / "g.ncnet"
    assert cli.main(["new", "gan", "-o", str(target)]) == 0
    assert cli.main(["check", str(target)]) == 0
    out = capsys.readouterr().out
    assert "network 'generator'" in out and "network 'discriminator'" in out
    assert "(N, 2)" in out and "no problems" in out


def test_check_exit_codes(tmp_path, capsys):
    from engine import Design, save_design
    broken = Design()
    x = broken.add("Input", shape=(10,))
    broken.add("Output", broken.add("Conv2d", x))
    save_design(broken, tmp_path / "broken.ncnet")
    assert cli.main(["check", str(tmp_path / "broken.ncnet")]) == 1
    assert "[error]" in capsys.readouterr().out

    warned = Design()
    x = warned.add("Input", shape=(3, 4, 4))
    warned.add("Output", warned.add("Linear", x, out_features=2))
    save_design(warned, tmp_path / "warned.ncnet")
    assert cli.main(["check", str(tmp_path / "warned.ncnet")]) == 0
    assert "[warning]" in capsys.readouterr().out


@pytest.mark.parametrize("content", ["not json", "[]", '{"format": "neuralcanvas.design"}'])
def test_bad_files_exit_2_without_traceback(tmp_path, content):
    path = tmp_path / "bad.ncnet"
    path.write_text(content)
    result = run("check", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "bad.ncnet" in result.stderr
    assert run("check", str(tmp_path / "missing.ncnet")).returncode == 2
