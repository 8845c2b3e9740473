"""Squared difference with broadcasting of a (1, cols) row: (x - y) ** 2."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def forward(self, x, y):
        return (x - y) ** 2


def get_inputs(rows=4096, cols=4096):
    return [torch.randn(rows, cols), torch.randn(1, cols)]


def get_init_inputs():
    return []


SHAPES = [(3001, 999), (37, 129)]  # the last: CPU-sized
