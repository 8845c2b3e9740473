"""LayerNorm over the last three dimensions of NCHW (normalized_shape = (C, H, W)), nn.LayerNorm with affine."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, channels, height, width):
        super().__init__()
        self.norm = nn.LayerNorm([channels, height, width])

    def forward(self, x):
        return self.norm(x)


def get_inputs(batch=1024, channels=16, height=31, width=33):
    return [torch.randn(batch, channels, height, width) * 2 + 0.5]


def get_init_inputs():
    return [16, 31, 33]


SHAPES = [(97, 16, 31, 33), (5, 16, 31, 33)]  # the last: CPU-sized
