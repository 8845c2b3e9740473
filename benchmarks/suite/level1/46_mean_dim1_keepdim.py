"""Mean over dim 1 (channels) of NCHW with keepdim: torch.mean(x, dim=1, keepdim=True)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-5, 1e-4


class Model(nn.Module):
    def forward(self, x):
        return torch.mean(x, dim=1, keepdim=True)


def get_inputs(batch=16, channels=256, height=64, width=64):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs():
    return []


SHAPES = [(4, 96, 111, 113), (2, 33, 29, 31)]  # the last: CPU-sized
