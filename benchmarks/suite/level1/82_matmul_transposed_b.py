"""Matrix multiplication with the second operand transposed: A @ B.T, B stored N x K (as a Linear weight is)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
# float32 dot products of K terms (outputs of order 1): blocking and split-K change the
# summation order
ATOL, RTOL = 1e-3, 1e-3


class Model(nn.Module):
    def forward(self, A, B):
        return A @ B.T


def get_inputs(m=4096, k=2048, n=1024):
    return [torch.randn(m, k), torch.randn(n, k) / k ** 0.5]


def get_init_inputs():
    return []


SHAPES = [(999, 2048, 3001), (37, 129, 65), (2, 1000, 77)]  # the last two: CPU-sized
