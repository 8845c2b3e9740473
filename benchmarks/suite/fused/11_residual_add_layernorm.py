"""Residual add then LayerNorm over the hidden dim: LayerNorm(x + residual), nn.LayerNorm(1024)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x, residual):
        return self.norm(x + residual)


def get_inputs(batch=16, seq=512, hidden=1024):
    return [torch.randn(batch, seq, hidden), torch.randn(batch, seq, hidden)]


def get_init_inputs():
    return [1024]


SHAPES = [(2, 999, 1024), (1, 37, 1024)]  # the last: CPU-sized
