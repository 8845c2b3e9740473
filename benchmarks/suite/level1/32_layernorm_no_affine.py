"""LayerNorm over the last dimension without weight or bias, eps given at construction (1e-6), inputs with a large mean."""
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, eps):
        super().__init__()
        self.eps = eps

    def forward(self, x):
        return F.layer_norm(x, x.shape[-1:], eps=self.eps)


def get_inputs(rows=8192, cols=2048):
    return [torch.randn(rows, cols) + 3.0]


def get_init_inputs():
    return [1e-6]


SHAPES = [(1000, 5000), (37, 129), (5, 10007)]  # the last two: CPU-sized
