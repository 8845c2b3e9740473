"""Batched matrix multiplication (torch.bmm): (B, M, K) @ (B, K, N)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
# float32 dot products of K terms (outputs of order 1): blocking changes the summation order
ATOL, RTOL = 1e-3, 1e-3


class Model(nn.Module):
    def forward(self, A, B):
        return torch.bmm(A, B)


def get_inputs(batch=32, m=512, k=256, n=512):
    return [torch.randn(batch, m, k), torch.randn(batch, k, n) / k ** 0.5]


def get_init_inputs():
    return []


SHAPES = [(128, 197, 64, 197), (3, 37, 65, 29), (5, 17, 33, 100)]  # the last two: CPU-sized
