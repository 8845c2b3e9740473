import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x):
        return x * 2.0


def get_inputs(batch=64, rows=999, cols=129):
    return [torch.randn(batch, rows, cols)]


def get_init_inputs():
    return []


SHAPES = [(64, 999, 129), (3, 1024, 256)]
