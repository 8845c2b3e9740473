"""LayerNorm over the last dimension (normalized_shape = (hidden,)), default affine weight and bias, eps 1e-5."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.norm = nn.LayerNorm(hidden)

    def forward(self, x):
        return self.norm(x)


def get_inputs(batch=16, seq=1024, hidden=768):
    return [torch.randn(batch, seq, hidden)]


def get_init_inputs():
    return [768]


SHAPES = [(4, 4097, 768), (1, 37, 768), (3, 11, 768)]  # the last two: CPU-sized
