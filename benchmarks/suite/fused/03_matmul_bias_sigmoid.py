"""Matmul with a stored K x N weight, plus a bias row, then sigmoid: sigmoid(x @ W + b)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
# float32 dot products of 1024 terms: blocking and split-K change the summation order
ATOL, RTOL = 1e-3, 1e-3


class Model(nn.Module):
    def __init__(self, k, n):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(k, n) * k ** -0.5)
        self.bias = nn.Parameter(torch.randn(n) * 0.1)

    def forward(self, x):
        return torch.sigmoid(x @ self.weight + self.bias)


def get_inputs(batch=8192, k=1024):
    return [torch.randn(batch, k)]


def get_init_inputs():
    return [1024, 512]


SHAPES = [(1001, 1024), (13, 1024)]  # the last: CPU-sized
