"""Clamp to a range given at construction: torch.clamp(x, min=-0.5, max=1.5)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, lo, hi):
        super().__init__()
        self.lo, self.hi = lo, hi

    def forward(self, x):
        return torch.clamp(x, min=self.lo, max=self.hi)


def get_inputs(batch=16, seq=2048, hidden=512):
    return [torch.randn(batch, seq, hidden)]


def get_init_inputs():
    return [-0.5, 1.5]


SHAPES = [(2, 3000, 1001), (3, 33, 65)]  # the last: CPU-sized
