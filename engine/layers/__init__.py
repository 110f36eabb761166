"""The layer catalogue: one declaration per layer type (see engine.layers.base)."""

from engine.layers.base import BATCH, EmitContext, LayerSpec, Param, TensorInfo
from engine.layers.registry import all_layers, categories, get_layer, register

__all__ = ["BATCH", "EmitContext", "LayerSpec", "Param", "TensorInfo", "all_layers",
           "categories", "get_layer", "register"]
