"""Mean over the last dimension, no keepdim: x.mean(-1)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-5, 1e-4


class Model(nn.Module):
    def forward(self, x):
        return x.mean(-1)


def get_inputs(batch=32, seq=512, hidden=1024):
    return [torch.randn(batch, seq, hidden) + 1.0]


def get_init_inputs():
    return []


SHAPES = [(4, 1000, 4097), (3, 37, 129)]  # the last: CPU-sized
