"""nn.TransformerEncoder, nn.TransformerDecoder and nn.Transformer, imported layer by layer.

A stack has no layer of its own: it runs its `layers` one after the other, then its `norm`.
Its forward cannot be traced symbolically (it inspects masks and takes fast paths by their
values), so while a model is traced each stack's forward is a plain loop over the same
submodules, with the same names: the design gets one TransformerEncoderLayer or
TransformerDecoderLayer node per layer (`encoder.layers.0`, ...) and its state_dict keys are
the model's. Masks reach each layer as the stack passes them, where the layer's own rules
accept or refuse them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def is_stack(module: Any) -> bool:
    """Whether `module` is one of torch's Transformer stacks, traced through, not called."""
    from torch import nn

    return type(module) in (nn.TransformerEncoder, nn.TransformerDecoder, nn.Transformer)


@contextmanager
def unrolled_stacks(model: Any) -> Iterator[None]:
    """While the block runs, every stack in `model` (itself included) runs its layers in a
    plain loop that fx can trace; their own forward is back afterwards."""
    from torch import nn

    loops = {nn.TransformerEncoder: _encoder_loop, nn.TransformerDecoder: _decoder_loop,
             nn.Transformer: _transformer_loop}
    stacks = [module for module in model.modules() if is_stack(module)]
    for stack in stacks:
        stack.forward = loops[type(stack)].__get__(stack)
    try:
        yield
    finally:
        for stack in stacks:
            del stack.forward


def _given(**arguments: Any) -> dict[str, Any]:
    """The keyword arguments a caller gave (masks, causal hints), so a layer sees exactly
    those and refuses what it cannot hold by its own rules."""
    return {name: value for name, value in arguments.items()
            if value is not None and value is not False}


def _finish(stack: Any, output: Any) -> Any:
    return stack.norm(output) if stack.norm is not None else output


def _encoder_loop(self: Any, src: Any, mask: Any = None, src_key_padding_mask: Any = None,
                  is_causal: Any = None) -> Any:
    given = _given(src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                   is_causal=is_causal)
    output = src
    for layer in self.layers:
        output = layer(output, **given)
    return _finish(self, output)


def _decoder_loop(self: Any, tgt: Any, memory: Any, tgt_mask: Any = None,
                  memory_mask: Any = None, tgt_key_padding_mask: Any = None,
                  memory_key_padding_mask: Any = None, tgt_is_causal: Any = None,
                  memory_is_causal: bool = False) -> Any:
    given = _given(tgt_mask=tgt_mask, memory_mask=memory_mask,
                   tgt_key_padding_mask=tgt_key_padding_mask,
                   memory_key_padding_mask=memory_key_padding_mask,
                   tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
    output = tgt
    for layer in self.layers:
        output = layer(output, memory, **given)
    return _finish(self, output)


def _transformer_loop(self: Any, src: Any, tgt: Any, src_mask: Any = None,
                      tgt_mask: Any = None, memory_mask: Any = None,
                      src_key_padding_mask: Any = None, tgt_key_padding_mask: Any = None,
                      memory_key_padding_mask: Any = None, src_is_causal: Any = None,
                      tgt_is_causal: Any = None, memory_is_causal: bool = False) -> Any:
    memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                          is_causal=src_is_causal)
    return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                        tgt_key_padding_mask=tgt_key_padding_mask,
                        memory_key_padding_mask=memory_key_padding_mask,
                        tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
