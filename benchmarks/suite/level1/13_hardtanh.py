"""Hardtanh with bounds given at construction: clamp(x, -2.0, 2.0) (nn.Hardtanh)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, min_val, max_val):
        super().__init__()
        self.act = nn.Hardtanh(min_val=min_val, max_val=max_val)

    def forward(self, x):
        return self.act(x)


def get_inputs(rows=4096, cols=4096):
    return [torch.randn(rows, cols) * 3]


def get_init_inputs():
    return [-2.0, 2.0]


SHAPES = [(5000, 999), (129, 37)]  # the last: CPU-sized
