"""Index of the minimum over dim 1 (channels) of NCHW with keepdim, int64: torch.argmin(x, dim=1, keepdim=True)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 0, 0  # indices: exact


class Model(nn.Module):
    def forward(self, x):
        return torch.argmin(x, dim=1, keepdim=True)


def get_inputs(batch=16, channels=128, height=96, width=96):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs():
    return []


SHAPES = [(4, 1000, 33, 35), (2, 21, 37, 41)]  # the last: CPU-sized
