"""Linear interpolation with a per-column weight broadcast over rows: torch.lerp(a, b, w), w in [0, 1)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def forward(self, a, b, w):
        return torch.lerp(a, b, w)


def get_inputs(rows=8192, cols=1024):
    return [torch.randn(rows, cols), torch.randn(rows, cols), torch.rand(cols)]


def get_init_inputs():
    return []


SHAPES = [(1001, 4099), (129, 37)]  # the last: CPU-sized
