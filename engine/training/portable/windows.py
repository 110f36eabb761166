"""Swin's attention mask for shifted windows, made from its sizes alone.

A Buffer node with init 'shifted_windows' holds it, and an exported script that contains one
calls this same function, so both make the same values. Swin models keep the mask as a buffer
left out of their weights (timm's `attn_mask`); the import recognises it by its values.
"""

import torch


def shifted_window_mask(size, window, shift):
    """(windows, tokens, tokens): 0 where two tokens of a window lay in the same region of
    the feature map before its cyclic shift by `shift`, -100 where the roll made them
    neighbours (added to the attention scores, it keeps them from attending to each other). `size` is the feature map's (height,
    width), `window` a window's (height, width); windows are counted row after row."""
    height, width = size
    regions = torch.zeros(height, width)
    label = 0
    for rows in _bands(window[0], shift[0]):
        for columns in _bands(window[1], shift[1]):
            regions[rows, columns] = label
            label += 1
    tokens = regions.view(height // window[0], window[0], width // window[1], window[1])
    tokens = tokens.transpose(1, 2).reshape(-1, window[0] * window[1])
    differs = tokens.unsqueeze(1) - tokens.unsqueeze(2)
    return differs.masked_fill(differs != 0, -100.0).masked_fill(differs == 0, 0.0)


def _bands(window, shift):
    """The three regions along one dimension: untouched, the last window, the wrapped part."""
    return slice(0, -window), slice(-window, -shift), slice(-shift, None)
