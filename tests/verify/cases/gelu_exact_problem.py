import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    def forward(self, x):
        return F.gelu(x)


def get_inputs(n=1000):
    return [torch.randn(n)]


def get_init_inputs():
    return []


SHAPES = [(4096,), (129,)]
