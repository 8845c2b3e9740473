"""Add a per-channel bias to an NCHW tensor: x + bias.view(1, C, 1, 1)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.bias = nn.Parameter(torch.randn(channels) * 0.5)

    def forward(self, x):
        return x + self.bias.view(1, -1, 1, 1)


def get_inputs(batch=32, channels=128, height=56, width=56):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs():
    return [128]


SHAPES = [(3, 128, 113, 97), (1, 128, 13, 29)]  # the last: CPU-sized
