"""Diagonal matrix times matrix written as diag(a) @ B (row scaling): torch.diag(a) @ B, a of length N."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def forward(self, a, B):
        return torch.diag(a) @ B


def get_inputs(n=2048, m=4096):
    return [torch.randn(n), torch.randn(n, m)]


def get_init_inputs():
    return []


SHAPES = [(999, 4097), (129, 37), (37, 1000)]  # the last two: CPU-sized
