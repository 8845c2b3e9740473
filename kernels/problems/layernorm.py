"""LayerNorm over the last dimension, with affine weight and bias."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.norm = nn.LayerNorm(width)

    def forward(self, x):
        return self.norm(x)


def get_inputs(rows=16384, width=4096):
    return [torch.randn(rows, width)]


def get_init_inputs():
    return [4096]


SHAPES = [(1000, 4096), (33, 4096)]
