"""Rectangular matrix multiplication (M x K) @ (K x N) with the @ operator, M, K, N all different."""
import torch
import torch.nn as nn

DTYPE = torch.float32
# float32 dot products of K terms (outputs of order 1): blocking and split-K change the
# summation order
ATOL, RTOL = 1e-3, 1e-3


class Model(nn.Module):
    def forward(self, A, B):
        return A @ B


def get_inputs(m=4096, k=1024, n=2048):
    return [torch.randn(m, k), torch.randn(k, n) / k ** 0.5]


def get_init_inputs():
    return []


SHAPES = [(1000, 3000, 500), (8192, 256, 4096), (37, 129, 65), (100, 33, 47)]  # last two: CPU-sized
