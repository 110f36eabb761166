"""Issue 15 item 10: ONNX files import through onnx2torch and the same importer, and the design
(built, and exported as Python) runs equal to onnxruntime on the file.

Models are written with torch.onnx.export (the TorchScript exporter) at opset 17, with a named
(dynamic) batch unless a test says otherwise. onnxruntime and torch add in different orders,
so outputs are compared within TOLERANCE of the outputs' largest value; the built design and
its exported code are compared with each other exactly.
"""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from test_codegen_helpers import load_exported, single_thread
from torch import nn

import engine
from engine import cli
from engine.codegen.export import export_script
from engine.errors import DesignError
from engine.importing.onnx_import import import_onnx_file

pytest.importorskip("onnx")
pytest.importorskip("onnx2torch")
onnxruntime = pytest.importorskip("onnxruntime")

pytestmark = pytest.mark.usefixtures(single_thread.__name__)

# Largest difference from onnxruntime, as a fraction of the outputs' largest value: float32
# convolutions and sums rounded in another order differ by about 1e-7 of it.
TOLERANCE = 1e-5


def write_onnx(model, example, path, dynamic_batch=True, opset=17, **options):
    """`model` (in evaluation mode) as an ONNX file; inputs are named x, x2, ..."""
    examples = example if isinstance(example, tuple) else (example,)
    names = ["x", *(f"x{index + 2}" for index in range(len(examples) - 1))]
    axes = {name: {0: "batch"} for name in names} if dynamic_batch else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), examples, str(path), dynamo=False, opset_version=opset,
                          input_names=names, dynamic_axes=axes, **options)
    return path


def runtime(path, inputs):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {value.name: tensor.numpy() for value, tensor in zip(session.get_inputs(), inputs)}
    return session.run(None, feed)


def assert_runs_like_onnxruntime(path, inputs, tmp_path, shapes=None):
    """Import `path`; the built design and its exported script, given the imported weights,
    compute what onnxruntime computes on `inputs` (and the same as each other)."""
    imported = import_onnx_file(path, shapes)
    design, weights = imported.result.design, imported.result.state_dict
    built = engine.build_model(design).eval()
    built.load_state_dict(weights, strict=True)
    script = export_script(design)
    exported = load_exported(script.code, tmp_path)[script.classes["model"]]().eval()
    exported.load_state_dict(weights, strict=True)
    with torch.no_grad():
        results = [_flat(model(*inputs)) for model in (built, exported)]
    assert all(torch.equal(a, b) for a, b in zip(*results))
    expected = runtime(path, inputs)
    assert len(expected) == len(results[0])
    for want, got in zip(expected, results[0]):
        assert got.shape == want.shape
        scale = float(np.abs(want).max()) or 1.0
        assert np.abs(got.numpy() - want).max() <= TOLERANCE * scale
    assert imported.difference <= TOLERANCE
    return design


def _flat(output):
    if isinstance(output, dict):
        return list(output.values())
    return list(output) if isinstance(output, (tuple, list)) else [output]


def layers(design):
    return [design.node(node_id).type for node_id in design.nodes()]


def names(design):
    return [design.node(node_id).name for node_id in design.nodes()]


def settle(model):
    """Batch norms with statistics of their own, so evaluation mode is not the identity."""
    generator = torch.Generator().manual_seed(1)
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.running_mean.copy_(torch.randn(module.num_features, generator=generator))
            module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
    return model


# ---------------------------------------------------------------------------- models
class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.norm = nn.BatchNorm2d(8)  # after the ReLU: the exporter cannot fold it away
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        x = self.pool(self.norm(torch.relu(self.conv(x))))
        return self.fc(x.view(x.size(0), -1))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(20, 32), nn.Tanh(), nn.Linear(32, 5),
                                    nn.LogSoftmax(dim=1))

    def forward(self, x):
        return self.layers(x)


class Branches(nn.Module):
    """Concatenation, residual adds, arithmetic with constants and a learned tensor, channel
    slices and a transpose."""

    def __init__(self):
        super().__init__()
        self.left = nn.Conv2d(4, 4, 3, padding=1)
        self.right = nn.Conv2d(4, 4, 1)
        self.mix = nn.Conv2d(8, 4, 1)
        self.scale = nn.Parameter(torch.randn(1, 4, 1, 1))

    def forward(self, x):
        joined = torch.cat([torch.relu(self.left(x)), self.right(x)], dim=1)
        y = self.mix(joined) + x
        y = y * 0.5 + 1.0
        y = y * self.scale + y[:, 1:2]
        return y.transpose(2, 3).mean(dim=(2, 3))


class ChannelsLast(nn.Module):
    """What tf2onnx writes for a Keras model: images arrive (H, W, C) and are transposed for
    the convolution, back for Flatten, and Dense is a MatMul plus an Add of its bias."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3)
        self.kernel = nn.Parameter(torch.randn(6 * 6 * 6, 4) * 0.1)
        self.bias = nn.Parameter(torch.randn(4))

    def forward(self, x):
        y = torch.relu(self.conv(x.permute(0, 3, 1, 2))).permute(0, 2, 3, 1)
        return torch.softmax(y.reshape(y.shape[0], -1) @ self.kernel + self.bias, dim=-1)


class PadAndResize(nn.Module):
    """Padding on one side (what TensorFlow's 'SAME' needs at stride 2) and upsampling."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, stride=2)
        self.nearest = nn.Upsample(scale_factor=2)
        self.bilinear = nn.Upsample(scale_factor=2, mode="bilinear")

    def forward(self, x):
        y = self.conv(F.pad(x, (0, 1, 0, 1)))
        return self.nearest(y) + self.bilinear(y)


def keras_like_graph(pool_pads=None):
    """An ONNX graph as tf2onnx writes a Keras model: named `sequential/...`, channels last,
    'SAME' padding on one side, Dense as MatMul + Add; or with a 'SAME' max pool."""
    from onnx import TensorProto, helper, numpy_helper

    generator = np.random.default_rng(0)

    def constant(name, *shape):
        return numpy_helper.from_array(generator.standard_normal(shape).astype(np.float32), name)

    nodes = [helper.make_node("Transpose", ["input_1"], ["nchw"], "sequential/to_nchw",
                              perm=[0, 3, 1, 2])]
    if pool_pads:
        nodes.append(helper.make_node("MaxPool", ["nchw"], ["features"],
                                      "sequential/max_pooling2d/MaxPool", kernel_shape=[2, 2],
                                      strides=[2, 2], pads=pool_pads))
    else:
        nodes.append(helper.make_node("Conv", ["nchw", "kernel", "conv_bias"], ["features"],
                                      "sequential/conv2d/Conv2D", kernel_shape=[3, 3],
                                      strides=[2, 2], pads=[0, 0, 1, 1]))
    channels = 3 if pool_pads else 4
    nodes += [helper.make_node("Relu", ["features"], ["relu"], "sequential/conv2d/Relu"),
              helper.make_node("Transpose", ["relu"], ["nhwc"], "sequential/to_nhwc",
                               perm=[0, 2, 3, 1]),
              helper.make_node("Reshape", ["nhwc", "flat_shape"], ["flat"],
                               "sequential/flatten/Reshape"),
              helper.make_node("MatMul", ["flat", "dense_kernel"], ["product"],
                               "sequential/dense/MatMul"),
              helper.make_node("Add", ["product", "dense_bias"], ["logits"],
                               "sequential/dense/BiasAdd"),
              helper.make_node("Softmax", ["logits"], ["dense"], "sequential/dense/Softmax",
                               axis=-1)]
    initializers = [constant("kernel", 4, 3, 3, 3), constant("conv_bias", 4),
                    numpy_helper.from_array(np.array([-1, channels * 16], np.int64),
                                            "flat_shape"),
                    constant("dense_kernel", channels * 16, 5), constant("dense_bias", 5)]
    graph = helper.make_graph(
        nodes, "sequential", [helper.make_tensor_value_info("input_1", TensorProto.FLOAT,
                                                            ["unk__6", 8, 8, 3])],
        [helper.make_tensor_value_info("dense", TensorProto.FLOAT, ["unk__7", 5])],
        initializers)
    return helper.make_model(graph, producer_name="tf2onnx",
                             opset_imports=[helper.make_opsetid("", 13)])


class Trigonometry(nn.Module):
    def forward(self, x):
        return torch.sin(x) + torch.sin(x * 2) + torch.special.erf(x)


class Determinant(nn.Module):
    def forward(self, x):
        return torch.det(x)


class FoldsTheBatch(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x).reshape(1, -1)


# ---------------------------------------------------------------------------- imports
def test_a_small_cnn_imports_with_named_layers_and_runs_like_onnxruntime(tmp_path):
    path = write_onnx(settle(SmallCNN()), torch.randn(2, 3, 8, 8), tmp_path / "cnn.onnx")
    design = assert_runs_like_onnxruntime(path, (torch.randn(3, 3, 8, 8),), tmp_path)
    assert layers(design) == ["Input", "Conv2d", "ReLU", "BatchNorm2d", "MaxPool2d",
                              "Reshape", "Linear", "Output"]
    assert {"conv", "norm", "pool", "fc"} <= set(names(design))
    node = next(design.node(n) for n in design.nodes() if design.node(n).type == "Input")
    assert node.params["shape"] == (3, 8, 8)
    assert "cnn.onnx" in design.description and "onnxruntime" in design.description


def test_an_mlp_written_at_a_newer_opset_is_converted_down_and_imports(tmp_path):
    path = write_onnx(MLP(), torch.randn(2, 20), tmp_path / "mlp.onnx", opset=20)
    design = assert_runs_like_onnxruntime(path, (torch.randn(5, 20),), tmp_path)
    assert layers(design) == ["Input", "Linear", "Tanh", "Linear", "LogSoftmax", "Output"]


def test_concatenation_residuals_constants_and_slices_import(tmp_path):
    path = write_onnx(Branches(), torch.randn(2, 4, 6, 6), tmp_path / "branches.onnx")
    design = assert_runs_like_onnxruntime(path, (torch.randn(3, 4, 6, 6),), tmp_path)
    found = layers(design)
    for layer in ("Concat", "Add", "Arithmetic", "Parameter", "Multiply", "Slice",
                  "Permute", "Mean"):
        assert layer in found, layer


def test_a_channels_last_model_with_matmul_dense_imports_as_linear(tmp_path):
    path = write_onnx(ChannelsLast(), torch.randn(2, 8, 8, 3), tmp_path / "keras.onnx")
    design = assert_runs_like_onnxruntime(path, (torch.randn(4, 8, 8, 3),), tmp_path)
    found = layers(design)
    assert found.count("Permute") == 2 and "Linear" in found and "MatMul" not in found


def test_one_sided_padding_and_upsampling_import(tmp_path):
    path = write_onnx(PadAndResize(), torch.randn(2, 3, 8, 8), tmp_path / "resize.onnx")
    design = assert_runs_like_onnxruntime(path, (torch.randn(3, 3, 8, 8),), tmp_path)
    found = layers(design)
    assert "Pad" in found and found.count("Upsample") == 2


def test_a_graph_as_tf2onnx_writes_it_imports_with_its_names(tmp_path):
    import onnx

    path = tmp_path / "keras.onnx"
    onnx.save(keras_like_graph(), str(path))
    design = assert_runs_like_onnxruntime(path, (torch.randn(3, 8, 8, 3),), tmp_path)
    assert layers(design) == ["Input", "Permute", "Pad", "Conv2d", "ReLU", "Permute",
                              "Reshape", "Linear", "Softmax", "Output"]
    assert {"input_1", "sequential_conv2d_Conv2D", "sequential_dense", "dense"} <= set(
        names(design))
    assert "tf2onnx" in design.description


def test_a_max_pool_padded_on_one_side_is_refused_by_node(tmp_path):
    import onnx

    path = tmp_path / "pool.onnx"
    onnx.save(keras_like_graph(pool_pads=[0, 0, 1, 1]), str(path))
    with pytest.raises(DesignError, match=r"ONNX MaxPool 'sequential/max_pooling2d/MaxPool': "
                                          r"pads one side more than the other with -inf"):
        import_onnx_file(path)


def test_f_pad_in_a_module_imports_as_a_pad_node():
    class Padded(nn.Module):
        def forward(self, x):
            return F.pad(x, (1, 2), value=0.5) * 2

    design = engine.import_module(Padded(), torch.randn(2, 3, 4))
    pad = next(design.node(n) for n in design.nodes() if design.node(n).type == "Pad")
    assert pad.params["pad"] == (1, 2) and pad.params["value"] == 0.5


def test_missing_onnx_packages_are_named(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *rest: None if name == "onnx2torch" else real(name, *rest))
    with pytest.raises(DesignError, match=r"needs onnx2torch: install them with pip install "
                                          r"'neuralcanvas\[onnx\]'"):
        import_onnx_file("model.onnx")


def test_a_fixed_batch_of_one_imports_and_runs_at_any_batch(tmp_path):
    path = write_onnx(settle(SmallCNN()), torch.randn(1, 3, 8, 8), tmp_path / "fixed.onnx",
                      dynamic_batch=False)
    imported = import_onnx_file(path)
    model = engine.build_model(imported.result.design).eval()
    model.load_state_dict(imported.result.state_dict, strict=True)
    images = torch.randn(4, 3, 8, 8)
    with torch.no_grad():
        together = model(images)
        alone = torch.cat([model(images[i:i + 1]) for i in range(4)])
    assert torch.allclose(together, alone, atol=1e-6)
    (expected,) = runtime(path, (images[:1],))
    assert np.abs(alone[:1].numpy() - expected).max() <= TOLERANCE * np.abs(expected).max()


def test_open_sizes_need_a_shape_and_take_the_given_one(tmp_path):
    path = tmp_path / "open.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1),
                                        nn.Flatten()).eval(), (torch.randn(1, 3, 9, 9),),
                          str(path), dynamo=False, opset_version=17, input_names=["image"],
                          dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"}})
    with pytest.raises(DesignError, match=r"open.onnx: input 'image' leaves sizes open "
                                          r"\(3, \?, \?\).*--input-shape 3,32,32"):
        import_onnx_file(path)
    with pytest.raises(DesignError, match=r"dimension 1 is 3, not 1"):
        import_onnx_file(path, [(1, 16, 16)])
    design = assert_runs_like_onnxruntime(path, (torch.randn(2, 3, 16, 16),), tmp_path,
                                          shapes=[(3, 16, 16)])
    assert "AdaptiveAvgPool2d" in layers(design)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v3_small"])
def test_torchvision_classifiers_import_and_run_like_onnxruntime(name, tmp_path):
    torchvision = pytest.importorskip("torchvision")
    torch.manual_seed(0)
    model = settle(getattr(torchvision.models, name)(weights=None))
    path = write_onnx(model, torch.randn(1, 3, 64, 64), tmp_path / f"{name}.onnx")
    assert_runs_like_onnxruntime(path, (torch.randn(2, 3, 64, 64),), tmp_path)


# ---------------------------------------------------------------------------- refusals
def test_operations_without_a_layer_are_one_grouped_refusal_naming_the_nodes(tmp_path):
    path = write_onnx(Trigonometry(), torch.randn(2, 5), tmp_path / "trig.onnx")
    with pytest.raises(DesignError) as caught:
        import_onnx_file(path)
    message = str(caught.value)
    assert message.startswith("cannot import trig.onnx: 3 operations without a NeuralCanvas "
                              "equivalent, for 2 reasons")
    assert "2 uses of ONNX Sin ('/Sin', '/Sin_1'): has no NeuralCanvas layer" in message
    assert "ONNX Erf '/Erf': has no NeuralCanvas layer" in message


def test_an_operation_onnx2torch_cannot_convert_is_refused_by_node(tmp_path):
    path = write_onnx(Determinant(), torch.randn(2, 3, 3), tmp_path / "det.onnx")
    with pytest.raises(DesignError, match=r"cannot import det.onnx: 1 operation .*\n  - ONNX "
                                          r"Det '/Det': onnx2torch has no converter for it "
                                          r"at opset 17"):
        import_onnx_file(path)


def test_a_reshape_that_folds_the_batch_is_refused(tmp_path):
    path = write_onnx(FoldsTheBatch(), torch.randn(2, 4), tmp_path / "fold.onnx")
    with pytest.raises(DesignError, match=r"ONNX Reshape '/Reshape': does not keep the batch "
                                          r"as the first dimension"):
        import_onnx_file(path)


@pytest.mark.parametrize("content, reason", [
    (b"\x08\x07\x12\x05hello\xff\xff\xff", "not an ONNX model"),
    (b"", "not an ONNX model"),
    (bytes(range(256)) * 4, "not an ONNX model"),
])
def test_files_that_are_not_onnx_models_are_refused_by_name(content, reason, tmp_path):
    path = tmp_path / "broken.onnx"
    path.write_bytes(content)
    with pytest.raises(DesignError, match=rf"broken.onnx: {reason}"):
        import_onnx_file(path)


def test_a_truncated_file_is_refused_by_name(tmp_path):
    whole = write_onnx(MLP(), torch.randn(2, 20), tmp_path / "whole.onnx").read_bytes()
    for length in (len(whole) // 3, len(whole) - 7):
        path = tmp_path / f"cut{length}.onnx"
        path.write_bytes(whole[:length])
        with pytest.raises(DesignError, match=rf"cut{length}.onnx: not (an|a valid) ONNX "
                                              "model"):
            import_onnx_file(path)


# ---------------------------------------------------------------------------- command line
def test_the_command_line_imports_an_onnx_file_by_its_extension(tmp_path, capsys):
    path = write_onnx(settle(SmallCNN()), torch.randn(2, 3, 8, 8), tmp_path / "cnn.onnx")
    out, weights = tmp_path / "cnn.ncnet", tmp_path / "cnn.safetensors"
    assert cli.main(["import", str(path), "-o", str(out), "--weights", str(weights)]) == 0
    printed = capsys.readouterr().out
    assert "imported cnn.onnx: 8 nodes; onnxruntime gives the same outputs" in printed
    assert engine.load_design(out).nodes()
    assert weights.exists()
    (tmp_path / "bad.onnx").write_bytes(b"not onnx")
    assert cli.main(["import", str(tmp_path / "bad.onnx"), "-o", str(tmp_path / "b.ncnet")]) == 2
    assert "bad.onnx: not an ONNX model" in capsys.readouterr().err
    assert not (tmp_path / "b.ncnet").exists()


# ---------------------------------------------------------------------------- the app
@pytest.mark.slow
def test_file_import_in_the_app_takes_an_onnx_file_without_a_shape(qtbot, tmp_path):
    from test_i11_import_export import HELPER_MS, FileDialogs, click, import_dialog
    from test_i11_window import shown_window

    from designer.panels.import_dialog import ImportDialog

    path = write_onnx(settle(SmallCNN()), torch.randn(2, 3, 8, 8), tmp_path / "cnn.onnx")
    window = shown_window(qtbot, tmp_path, dialogs=FileDialogs(python_file=path))
    dialog = import_dialog(qtbot, window)
    click(dialog.browse_button)
    qtbot.waitUntil(lambda: dialog.classes.isEnabled(), timeout=HELPER_MS)
    assert dialog.status.text() == "an ONNX model: cnn.onnx"
    click(dialog.import_button)
    qtbot.waitUntil(lambda: window.document.design.name == "cnn", timeout=HELPER_MS)
    assert "Linear" in layers(window.document.design)
    qtbot.waitUntil(lambda: window.findChild(ImportDialog) is None)
