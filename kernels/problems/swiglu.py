"""SwiGLU gate: silu(a) * b."""
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def forward(self, a, b):
        return F.silu(a) * b


def get_inputs(rows=16384, width=4096):
    return [torch.randn(rows, width), torch.randn(rows, width)]


def get_init_inputs():
    return []


SHAPES = [(1000, 4096), (33, 4000)]
