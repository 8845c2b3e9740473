"""Maximum over dim 1 of a 3-D tensor, values only: torch.max(x, dim=1).values."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-5, 1e-5


class Model(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return torch.max(x, dim=self.dim).values


def get_inputs(batch=16, reduce=2048, cols=512):
    return [torch.randn(batch, reduce, cols)]


def get_init_inputs():
    return [1]


SHAPES = [(64, 1001, 257), (5, 37, 129)]  # the last: CPU-sized
