"""Softmax over dim 1 (channels) of a (N, C, L) tensor via nn.Softmax(dim=1): the reduced axis is strided."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-5, 1e-5


class Model(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.softmax = nn.Softmax(dim=dim)

    def forward(self, x):
        return self.softmax(x)


def get_inputs(batch=64, channels=256, length=1024):
    return [torch.randn(batch, channels, length) * 3]


def get_init_inputs():
    return [1]


SHAPES = [(8, 1000, 999), (3, 37, 129)]  # the last: CPU-sized
