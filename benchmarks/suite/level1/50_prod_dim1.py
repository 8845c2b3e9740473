"""Product over dim 1 of a 3-D tensor (32 factors in [0.7, 1.3)): torch.prod(x, dim=1)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-5, 1e-4


class Model(nn.Module):
    def forward(self, x):
        return torch.prod(x, dim=1)


def get_inputs(batch=4096, factors=32, cols=128):
    return [torch.rand(batch, factors, cols) * 0.6 + 0.7]


def get_init_inputs():
    return []


SHAPES = [(1000, 17, 1001), (37, 32, 13)]  # the last: CPU-sized
