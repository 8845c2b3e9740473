"""3-D tensor times matrix: (B, S, K) @ (K, N) with torch.matmul, the weight shared over batch and sequence."""
import torch
import torch.nn as nn

DTYPE = torch.float32
# float32 dot products of K terms (outputs of order 1): blocking changes the summation order
ATOL, RTOL = 1e-3, 1e-3


class Model(nn.Module):
    def forward(self, x, W):
        return torch.matmul(x, W)


def get_inputs(batch=16, seq=512, k=1024, n=768):
    return [torch.randn(batch, seq, k), torch.randn(k, n) / k ** 0.5]


def get_init_inputs():
    return []


SHAPES = [(3, 1000, 768, 3072), (2, 37, 129, 33), (5, 7, 99, 101)]  # the last two: CPU-sized
