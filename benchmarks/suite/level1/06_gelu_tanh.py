"""GELU, tanh approximation (nn.GELU(approximate="tanh")), on a 3-D activation tensor."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.act = nn.GELU(approximate="tanh")

    def forward(self, x):
        return self.act(x)


def get_inputs(batch=8, seq=2048, hidden=1024):
    return [torch.randn(batch, seq, hidden)]


def get_init_inputs():
    return []


SHAPES = [(1, 4096, 3072), (2, 33, 1000)]  # the last: CPU-sized
