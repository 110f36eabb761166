"""ONNX export: the file reproduces torch's outputs in onnxruntime, at any batch size."""

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import engine
from engine import cli
from templates import load_template

pytest.importorskip("onnx")
pytest.importorskip("onnxscript")
onnxruntime = pytest.importorskip("onnxruntime")


@pytest.mark.slow
def test_onnx_file_with_trained_weights_matches_torch(tmp_path, capsys):
    design = load_template("cnn")
    engine.save_design(design, tmp_path / "cnn.ncnet")
    model = engine.build_model(design).eval()
    save_file(model.state_dict(), tmp_path / "weights.safetensors")
    assert cli.main(["export", str(tmp_path / "cnn.ncnet"), "-o", str(tmp_path / "cnn.onnx"),
                     "--weights", str(tmp_path / "weights.safetensors")]) == 0
    assert "onnxruntime matches torch" in capsys.readouterr().out
    session = onnxruntime.InferenceSession(str(tmp_path / "cnn.onnx"),
                                           providers=["CPUExecutionProvider"])
    images = torch.randn(5, 1, 8, 8)
    (scores,) = session.run(None, {session.get_inputs()[0].name: images.numpy()})
    with torch.no_grad():
        expected = model(images).numpy()
    assert scores.shape == expected.shape
    np.testing.assert_allclose(scores, expected, rtol=1e-4, atol=1e-5)


def test_weights_that_do_not_fit_are_refused(tmp_path, capsys):
    engine.save_design(load_template("mlp"), tmp_path / "mlp.ncnet")
    save_file({"nonsense": torch.zeros(2)}, tmp_path / "bad.safetensors")
    code = cli.main(["export", str(tmp_path / "mlp.ncnet"), "-o", str(tmp_path / "mlp.onnx"),
                     "--weights", str(tmp_path / "bad.safetensors")])
    assert code == 2 and "weights do not fit" in capsys.readouterr().err
    assert not (tmp_path / "mlp.onnx").exists()


def _exported_files(folder) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_the_file_holds_its_weights_and_the_pinned_opset(tmp_path):
    """One self-contained file (no weights beside it under a temporary name): it runs from
    anywhere, at any batch size."""
    import onnx

    from engine.export_onnx import OPSET, export_onnx

    export_onnx(load_template("cnn"), tmp_path / "cnn.onnx")
    assert _exported_files(tmp_path) == ["cnn.onnx"]
    model = onnx.load(str(tmp_path / "cnn.onnx"))
    assert [entry.version for entry in model.opset_import if entry.domain == ""] == [OPSET]
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    session = onnxruntime.InferenceSession(model.SerializeToString(),
                                           providers=["CPUExecutionProvider"])
    (scores,) = session.run(None, {"input0": np.zeros((7, 1, 8, 8), np.float32)})
    assert scores.shape == (7, 10)


def _refuses(*args) -> None:
    raise RuntimeError("no symbolic for this operator\nmore detail")


def test_the_next_exporter_writes_the_file_when_one_fails(tmp_path, monkeypatch):
    from engine import export_onnx as module

    working = module.EXPORTERS[0][1]
    monkeypatch.setattr(module, "EXPORTERS", (("first", _refuses), ("second", working)))
    result = module.export_onnx(load_template("mlp"), tmp_path / "mlp.onnx")
    assert result.max_difference < 1e-4
    assert _exported_files(tmp_path) == ["mlp.onnx"]


def test_when_every_exporter_fails_each_says_why_and_nothing_is_written(tmp_path, monkeypatch):
    from engine import export_onnx as module

    monkeypatch.setattr(module, "EXPORTERS", (("first", _refuses), ("second", _refuses)))
    with pytest.raises(engine.DesignError,
                       match=r"network 'model' failed \(first: no symbolic for this operator; "
                             r"second: no symbolic"):
        module.export_onnx(load_template("mlp"), tmp_path / "mlp.onnx")
    assert _exported_files(tmp_path) == []


@pytest.mark.slow
def test_torch_exports_exporter_alone_writes_one_checked_file(tmp_path, monkeypatch):
    """The fallback (the exporter that stays when torch drops TorchScript's) keeps the weights
    inside the file too."""
    from engine import export_onnx as module

    monkeypatch.setattr(module, "EXPORTERS", module.EXPORTERS[1:])
    assert module.export_onnx(load_template("mlp"), tmp_path / "mlp.onnx").max_difference < 1e-4
    assert _exported_files(tmp_path) == ["mlp.onnx"]
