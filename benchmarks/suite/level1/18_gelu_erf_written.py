"""GELU, exact form written out with erf: 0.5 * x * (1 + erf(x / sqrt(2)))."""
import math

import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def forward(self, x):
        return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def get_inputs(batch=8, seq=1024, hidden=2048):
    return [torch.randn(batch, seq, hidden)]


def get_init_inputs():
    return []


SHAPES = [(2, 577, 3072), (3, 19, 513)]  # the last: CPU-sized
