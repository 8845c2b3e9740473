import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x):
        return x * 2.0


def get_inputs(rows=16384, cols=1024):
    return [torch.randn(rows, cols)]


def get_init_inputs():
    return []


SHAPES = [(16384, 1024), (999, 1024)]
