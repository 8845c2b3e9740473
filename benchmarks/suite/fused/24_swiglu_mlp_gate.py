"""SwiGLU gate of an MLP: two bias-free Linears (512 -> 1024) combined as silu(gate(x)) * up(x)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPE = torch.float32
# float32 dot products of 512 terms: blocking and split-K change the summation order
ATOL, RTOL = 1e-3, 1e-3


class Model(nn.Module):
    def __init__(self, hidden, intermediate):
        super().__init__()
        self.gate = nn.Linear(hidden, intermediate, bias=False)
        self.up = nn.Linear(hidden, intermediate, bias=False)

    def forward(self, x):
        return F.silu(self.gate(x)) * self.up(x)


def get_inputs(batch=8, seq=1024, hidden=512):
    return [torch.randn(batch, seq, hidden)]


def get_init_inputs():
    return [512, 1024]


SHAPES = [(2, 999, 512), (1, 9, 512)]  # the last: CPU-sized
