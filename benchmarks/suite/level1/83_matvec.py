"""Matrix-vector product: (M x K) @ (K x 1) with torch.matmul, output M x 1 (memory-bound)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
# float32 dot products of K terms (outputs of order 1): a split-K reduction changes the order
ATOL, RTOL = 1e-3, 1e-3


class Model(nn.Module):
    def forward(self, A, x):
        return torch.matmul(A, x)


def get_inputs(m=8192, k=2048):
    return [torch.randn(m, k), torch.randn(k, 1) / k ** 0.5]


def get_init_inputs():
    return []


SHAPES = [(256, 131072), (10007, 999), (129, 37), (3, 9999)]  # the last two: CPU-sized
