"""Maximum over dim 0 (across rows) with torch.amax, no keepdim."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-5, 1e-5


class Model(nn.Module):
    def forward(self, x):
        return torch.amax(x, dim=0)


def get_inputs(rows=8192, cols=2048):
    return [torch.randn(rows, cols)]


def get_init_inputs():
    return []


SHAPES = [(100000, 33), (999, 100), (3, 7777)]  # the last two: CPU-sized
