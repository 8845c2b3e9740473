"""Unbiased standard deviation over dim 1 with keepdim (x.std(dim=1, keepdim=True), Bessel-corrected)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def forward(self, x):
        return x.std(dim=1, keepdim=True)


def get_inputs(rows=8192, cols=2048):
    return [torch.randn(rows, cols) * 3 + 2]


def get_init_inputs():
    return []


SHAPES = [(1000, 12345), (129, 37), (2, 4099)]  # the last two: CPU-sized
