"""Gemm (Linear 512 -> 1024) then swish x * sigmoid(x) then division by a constant divisor (2.0)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
# float32 dot products of 512 terms: blocking and split-K change the summation order
ATOL, RTOL = 1e-3, 1e-3


class Model(nn.Module):
    def __init__(self, in_features, out_features, divisor):
        super().__init__()
        self.gemm = nn.Linear(in_features, out_features)
        self.divisor = divisor

    def forward(self, x):
        x = self.gemm(x)
        x = x * torch.sigmoid(x)
        return x / self.divisor


def get_inputs(batch=16384, in_features=512):
    return [torch.randn(batch, in_features)]


def get_init_inputs():
    return [512, 1024, 2.0]


SHAPES = [(1001, 512), (11, 512)]  # the last: CPU-sized
