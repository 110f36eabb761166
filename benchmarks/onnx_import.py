"""Issue 15 item 10, measured: torchvision classifiers written as ONNX (TorchScript exporter,
opset 17, named batch), imported, built with the imported weights and compared with
onnxruntime on a batch of 2. Prints one line per model: imported or refused, the largest
difference as a fraction of the outputs' size, seconds, and the refusal's text.

Run: nice -n 10 python benchmarks/onnx_import.py [model ...]
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODELS = ("resnet18", "mobilenet_v3_small", "efficientnet_b0", "densenet121", "squeezenet1_0",
          "shufflenet_v2_x0_5", "regnet_y_400mf", "googlenet", "vgg11", "mnasnet0_5")
# torch cannot export VGG's adaptive pooling to 7x7 from a 2x2 map: it gets its own size.
SIZES = {"vgg11": 224}
TOLERANCE = 1e-5


def measure(name: str, folder: Path) -> str:
    import numpy as np
    import torch
    import torchvision

    import engine
    from engine.errors import DesignError
    from engine.importing.onnx_import import import_onnx_file
    from engine.importing.onnx_runtime import runtime_outputs

    torch.manual_seed(0)
    options = {"aux_logits": False, "init_weights": False} if name == "googlenet" else {}
    model = getattr(torchvision.models, name)(weights=None, **options).eval()
    size = SIZES.get(name, 64)
    path = folder / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.randn(1, 3, size, size),), str(path), dynamo=False,
                          opset_version=17, input_names=["x"], dynamic_axes={"x": {0: "b"}})
    start = time.perf_counter()
    try:
        imported = import_onnx_file(path)
    except DesignError as err:
        return f"{name:20} refused  {time.perf_counter() - start:5.1f}s  {err}"
    seconds = time.perf_counter() - start
    built = engine.build_model(imported.result.design).eval()
    built.load_state_dict(imported.result.state_dict, strict=True)
    import onnx

    images = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(1))
    (expected,) = runtime_outputs(onnx.load(str(path)), (images,))
    with torch.no_grad():
        got = built(images).numpy()
    difference = float(np.abs(got - expected).max() / np.abs(expected).max())
    status = "equal" if difference <= TOLERANCE else "DIFFERS"
    return (f"{name:20} imported {seconds:5.1f}s  {status} (difference {difference:.1g} of the "
            f"outputs' size), {len(imported.result.design.nodes())} nodes")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for name in sys.argv[1:] or MODELS:
            print(measure(name, Path(folder)), flush=True)


if __name__ == "__main__":
    main()
