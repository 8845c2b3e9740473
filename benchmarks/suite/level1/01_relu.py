"""ReLU, elementwise: max(x, 0) (torch.relu)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def forward(self, x):
        return torch.relu(x)


def get_inputs(rows=4096, cols=4096):
    return [torch.randn(rows, cols)]


def get_init_inputs():
    return []


SHAPES = [(8192, 1000), (37, 129), (64, 1000)]  # the last two: CPU-sized
