"""Depthwise 2-D convolution: groups = channels = 64, 3x3 kernel, padding 1, with bias."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, channels, kernel_size):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel_size, padding=kernel_size // 2,
                              groups=channels)

    def forward(self, x):
        return self.conv(x)


def get_inputs(batch=16, channels=64, height=112, width=112):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs():
    return [64, 3]


SHAPES = [(4, 64, 225, 223), (1, 64, 37, 41)]  # the last: CPU-sized
