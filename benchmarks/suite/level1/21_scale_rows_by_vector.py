"""Scale each row by its own factor, two inputs: x * s[:, None] (a column vector broadcast over columns)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def forward(self, x, s):
        return x * s[:, None]


def get_inputs(rows=8192, cols=2048):
    return [torch.randn(rows, cols), torch.randn(rows)]


def get_init_inputs():
    return []


SHAPES = [(1000, 9999), (129, 37), (3, 30000)]  # the last two: CPU-sized
