"""Copy every 32nd float32 of a long vector (a gather with a fixed stride)."""
import torch
import torch.nn as nn

STRIDE = 32


class Model(nn.Module):
    def forward(self, x):
        return x[::STRIDE].clone()


def get_inputs(n=2**27):
    return [torch.randn(n)]


def get_init_inputs():
    return []


SHAPES = [(4096,)]
