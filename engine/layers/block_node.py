"""The node that uses a block definition: not a catalogue layer, since what it does (its ports,
shapes, parameters and module) comes from the definition it names (engine.blocks)."""

from engine.blocks.definitions import LARGEST_REPEAT
from engine.errors import DesignError, ShapeError
from engine.fields import Param
from engine.layers.base import LayerSpec, TensorInfo

BLOCK_TYPE = "Block"


def _through_definition(inputs: list[TensorInfo], params: dict) -> TensorInfo:
    raise ShapeError(f"block {params.get('block')!r} is checked through its definition")


def _built_through_definition(inputs: list[TensorInfo], params: dict):
    raise DesignError(f"block {params.get('block')!r} is built through its definition")


BLOCK_SPEC = LayerSpec(
    name=BLOCK_TYPE, category="Blocks",
    explanation=(
        "Uses a block: a named sub-network with its own Inputs, Outputs and arguments, defined "
        "once in the design and used as often as needed, each use with its own weights. With "
        "repeat N it is N copies in sequence, as ResNet stages and Transformer stacks are."),
    params=(Param("block", "text", "", "the block definition this node uses"),
            Param("repeat", "int", 1, "copies in sequence, each with its own weights",
                  minimum=1, maximum=LARGEST_REPEAT)),
    min_inputs=1, max_inputs=None,
    infer=_through_definition, constructor=_built_through_definition)
