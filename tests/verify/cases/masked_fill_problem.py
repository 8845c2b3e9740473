import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x, mask):
        return x.masked_fill(mask, -1e4)


def get_inputs(n=4096):
    return [torch.randn(n), torch.rand(n) > 0.5]


def get_init_inputs():
    return []


SHAPES = [(4096,), (1000,)]
