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
