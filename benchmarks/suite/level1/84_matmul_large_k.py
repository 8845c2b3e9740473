"""Matrix multiplication with small M and N and a very long K: (256 x 32768) @ (32768 x 256) (split-K territory)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
# float32 dot products of 32768 terms (outputs of order 1): split-K and blocking change the
# summation order
ATOL, RTOL = 1e-3, 1e-3


class Model(nn.Module):
    def forward(self, A, B):
        return torch.matmul(A, B)


def get_inputs(m=256, k=32768, n=256):
    return [torch.randn(m, k), torch.randn(k, n) / k ** 0.5]


def get_init_inputs():
    return []


SHAPES = [(128, 65536, 64), (17, 4099, 9), (5, 9999, 3)]  # the last two: CPU-sized
