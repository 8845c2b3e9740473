"""Leaky ReLU with a negative slope given at construction (0.2), on a 4-D tensor."""
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, negative_slope):
        super().__init__()
        self.negative_slope = negative_slope

    def forward(self, x):
        return F.leaky_relu(x, negative_slope=self.negative_slope)


def get_inputs(batch=16, channels=64, height=128, width=128):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs():
    return [0.2]


SHAPES = [(8, 96, 100, 100), (2, 3, 37, 41)]  # the last: CPU-sized
