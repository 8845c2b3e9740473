"""Fused residual add + RMSNorm: returns norm(x + residual) * weight."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, width, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(width))
        self.eps = eps

    def forward(self, x, residual):
        h = x + residual
        return h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def get_inputs(rows=16384, width=4096):
    return [torch.randn(rows, width), torch.randn(rows, width)]


def get_init_inputs():
    return [4096]


SHAPES = [(1000, 4096), (33, 4096)]
