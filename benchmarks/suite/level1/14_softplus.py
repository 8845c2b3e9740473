"""Softplus with beta = 2 and threshold = 10: log(1 + exp(beta * x)) / beta, linear above the threshold."""
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, beta, threshold):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, x):
        return F.softplus(x, beta=self.beta, threshold=self.threshold)


def get_inputs(rows=8192, cols=2048):
    return [torch.randn(rows, cols) * 5]


def get_init_inputs():
    return [2.0, 10.0]


SHAPES = [(1000, 4097), (50, 1999)]  # the last: CPU-sized
