"""Softsign written out: x / (1 + |x|)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def forward(self, x):
        return x / (1 + torch.abs(x))


def get_inputs(batch=16, seq=1024, hidden=1024):
    return [torch.randn(batch, seq, hidden)]


def get_init_inputs():
    return []


SHAPES = [(3, 999, 1000), (5, 31, 97)]  # the last: CPU-sized
