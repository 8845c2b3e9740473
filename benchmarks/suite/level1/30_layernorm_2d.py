"""LayerNorm over the last two dimensions (normalized_shape = (seq, hidden)) via F.layer_norm, weight randn*0.1+1, bias randn*0.1."""
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, seq, hidden, eps):
        super().__init__()
        self.shape = (seq, hidden)
        self.eps = eps
        self.weight = nn.Parameter(torch.randn(seq, hidden) * 0.1 + 1)
        self.bias = nn.Parameter(torch.randn(seq, hidden) * 0.1)

    def forward(self, x):
        return F.layer_norm(x, self.shape, self.weight, self.bias, self.eps)


def get_inputs(batch=512, seq=129, hidden=255):
    return [torch.randn(batch, seq, hidden)]


def get_init_inputs():
    return [129, 255, 1e-6]


SHAPES = [(100, 129, 255), (1, 129, 255), (3, 129, 255)]  # the last two: CPU-sized
