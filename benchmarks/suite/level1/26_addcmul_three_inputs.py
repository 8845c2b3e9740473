"""Multiply-add of three inputs with a scalar weight: torch.addcmul(c, a, b, value=0.5) = c + 0.5 * a * b."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def forward(self, a, b, c):
        return torch.addcmul(c, a, b, value=0.5)


def get_inputs(rows=4096, cols=4096):
    return [torch.randn(rows, cols), torch.randn(rows, cols), torch.randn(rows, cols)]


def get_init_inputs():
    return []


SHAPES = [(1000, 3333), (37, 129)]  # the last: CPU-sized
