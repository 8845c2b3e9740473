"""Exclusive prefix sum along dim 1 (first output zero, last input dropped): cat([zeros, cumsum(x)[:, :-1]], dim=1)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
# running sums reach ~sqrt(cols) in magnitude: float32 rounding under another order
ATOL, RTOL = 1e-3, 1e-4


class Model(nn.Module):
    def forward(self, x):
        zeros = torch.zeros_like(x[:, :1])
        return torch.cat([zeros, torch.cumsum(x, dim=1)[:, :-1]], dim=1)


def get_inputs(rows=8192, cols=2048):
    return [torch.randn(rows, cols)]


def get_init_inputs():
    return []


SHAPES = [(1000, 5001), (129, 37), (2, 30000)]  # the last two: CPU-sized
