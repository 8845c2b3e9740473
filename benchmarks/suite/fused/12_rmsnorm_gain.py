"""nn.RMSNorm (weight randn*0.1+1, eps 1e-6) then a zero-centred learned gain, Gemma-style: norm(x) * (1 + gain)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, hidden, eps):
        super().__init__()
        self.norm = nn.RMSNorm(hidden, eps=eps)
        with torch.no_grad():
            self.norm.weight.copy_(torch.randn(hidden) * 0.1 + 1)
        self.gain = nn.Parameter(torch.randn(hidden) * 0.1)

    def forward(self, x):
        return self.norm(x) * (1 + self.gain)


def get_inputs(batch=8, seq=1024, hidden=2048):
    return [torch.randn(batch, seq, hidden)]


def get_init_inputs():
    return [2048, 1e-6]


SHAPES = [(1, 4097, 2048), (3, 11, 2048)]  # the last: CPU-sized
