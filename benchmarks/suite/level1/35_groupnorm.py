"""GroupNorm with 8 groups over 64 channels of NCHW, affine (nn.GroupNorm)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, groups, channels):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels)

    def forward(self, x):
        return self.norm(x)


def get_inputs(batch=16, channels=64, height=128, width=128):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs():
    return [8, 64]


SHAPES = [(3, 64, 99, 101), (1, 64, 17, 23)]  # the last: CPU-sized
