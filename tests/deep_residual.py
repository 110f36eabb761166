"""A model of 1,000 layer nodes, shared by the import test and the latency benchmark that times
importing it (benchmarks/latency.py)."""

import torch.nn.functional as F
from torch import nn


class DeepResidual(nn.Module):
    """1,000 layer nodes: 250 blocks of Linear, LayerNorm, ReLU and a residual Add."""

    def __init__(self, blocks: int = 250) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(8, 8) for _ in range(blocks))
        self.norms = nn.ModuleList(nn.LayerNorm(8) for _ in range(blocks))

    def forward(self, x):
        for layer, norm in zip(self.layers, self.norms):
            x = x + F.relu(norm(layer(x)))
        return x
