"""One small design per catalogue layer, shared by the tests that go through every layer."""

from __future__ import annotations

from engine import Design
from engine.errors import ShapeError
from engine.layers import LayerSpec, TensorInfo, get_layer

SAMPLE_SHAPES = [((3, 8, 8), "float"), ((4, 12), "float"), ((6,), "float"),
                 ((2, 4, 6, 6), "float"), ((64,), "float"), ((12,), "long"),
                 ((7, 7, 96), "float")]  # channels last, as Swin's window layers take
# Ports that take something an Input cannot give: a boolean mask, made from the Input.
MASK_PORTS = {"MaskedFill": 1}
# Ports that take positions every sample shares: a Buffer holding (0, 1).
INDEX_PORTS = {"Take": 1}


def one_layer_design(spec: LayerSpec) -> tuple[Design, str]:
    """Input -> the layer (every input port fed by the Input) -> Output, on the first sample
    shape the layer accepts with its default parameters; a layer without inputs (Parameter,
    Buffer) is added to an Input its tensor broadcasts with. Returns the design and the node
    the Output reads."""
    ports = max(spec.min_inputs, 2 if spec.max_inputs is None else spec.max_inputs)
    source = spec.infer([], spec.defaults()) if ports == 0 else None
    mask_port, index_port = MASK_PORTS.get(spec.name), INDEX_PORTS.get(spec.name)
    positions = TensorInfo((2,), "long")
    for shape, dtype in SAMPLE_SHAPES:
        x_info = TensorInfo(("N", *shape), dtype)
        infos = [TensorInfo(x_info.shape, "bool") if port == mask_port else
                 positions if port == index_port else x_info for port in range(ports)]
        try:
            if source is None:
                spec.infer(infos, spec.defaults())
            else:
                get_layer("Add").infer([x_info, source], {})
        except ShapeError:
            continue
        design = Design(spec.name)
        x = design.add("Input", shape=shape, dtype=dtype)
        feeds = [design.add("Compare", x, operation=">") if port == mask_port else
                 design.add("Buffer", shape=positions.shape, dtype="long", init="arange")
                 if port == index_port else x for port in range(ports)]
        node = (design.add(spec.name, *feeds) if source is None
                else design.add("Add", x, design.add(spec.name)))
        design.add("Output", node)
        return design, node
    raise AssertionError(f"no sample shape fits {spec.name}")
