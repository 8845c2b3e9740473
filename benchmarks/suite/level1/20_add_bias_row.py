"""Add a learned bias row broadcast over the rows: x + b, b of shape (cols,) drawn as randn * 0.1."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, cols):
        super().__init__()
        self.bias = nn.Parameter(torch.randn(cols) * 0.1)

    def forward(self, x):
        return x + self.bias


def get_inputs(rows=16384, cols=1000):
    return [torch.randn(rows, cols)]


def get_init_inputs():
    return [1000]


SHAPES = [(4097, 1000), (37, 1000)]  # the last: CPU-sized
