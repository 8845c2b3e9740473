"""LayerNorm over the last dim (affine weight randn*0.1+1) then exact-erf GELU."""
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.norm = nn.LayerNorm(hidden)
        with torch.no_grad():
            self.norm.weight.copy_(torch.randn(hidden) * 0.1 + 1)
            self.norm.bias.copy_(torch.randn(hidden) * 0.1)

    def forward(self, x):
        return F.gelu(self.norm(x))


def get_inputs(batch=16, seq=1024, hidden=1024):
    return [torch.randn(batch, seq, hidden) * 2 + 1]


def get_init_inputs():
    return [1024]


SHAPES = [(3, 999, 1024), (2, 37, 1024)]  # the last: CPU-sized
