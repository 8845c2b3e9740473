"""Column sums: reduce over dim 0 with keepdim, as a tensor method: x.sum(dim=0, keepdim=True)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
# sums of up to 16384 unit-variance terms: float32 rounding under another order
ATOL, RTOL = 1e-3, 1e-4


class Model(nn.Module):
    def forward(self, x):
        return x.sum(dim=0, keepdim=True)


def get_inputs(rows=16384, cols=1024):
    return [torch.randn(rows, cols)]


def get_init_inputs():
    return []


SHAPES = [(1000, 9973), (129, 37), (4099, 3)]  # the last two: CPU-sized
