"""Index of the maximum over dim 1 of a 3-D tensor (first occurrence), int64: torch.argmax(x, dim=1)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 0, 0  # indices: exact


class Model(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return torch.argmax(x, dim=self.dim)


def get_inputs(batch=16, reduce=1024, cols=1024):
    return [torch.randn(batch, reduce, cols)]


def get_init_inputs():
    return [1]


SHAPES = [(256, 257, 255), (3, 129, 37)]  # the last: CPU-sized
