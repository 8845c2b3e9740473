"""SELU, elementwise, with PyTorch's fixed alpha and scale (torch.selu)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def forward(self, x):
        return torch.selu(x)


def get_inputs(batch=64, features=65536):
    return [torch.randn(batch, features)]


def get_init_inputs():
    return []


SHAPES = [(10, 1000000), (3, 33333)]  # the last: CPU-sized
