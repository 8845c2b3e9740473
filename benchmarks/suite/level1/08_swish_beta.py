"""Swish with a trainable-style scalar beta, written out: x * sigmoid(beta * x), beta = 1.702."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, beta):
        super().__init__()
        self.beta = nn.Parameter(torch.tensor(float(beta)))

    def forward(self, x):
        return x * torch.sigmoid(self.beta * x)


def get_inputs(rows=4096, cols=4096):
    return [torch.randn(rows, cols)]


def get_init_inputs():
    return [1.702]


SHAPES = [(3000, 1001), (77, 999)]  # the last: CPU-sized
