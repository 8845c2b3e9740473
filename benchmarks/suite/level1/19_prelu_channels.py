"""PReLU with one learned slope per channel (dim 1 of NCHW), slopes drawn in [0, 0.3)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.act = nn.PReLU(num_parameters=channels)
        self.act.weight = nn.Parameter(torch.rand(channels) * 0.3)

    def forward(self, x):
        return self.act(x)


def get_inputs(batch=16, channels=64, height=128, width=128):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs():
    return [64]


SHAPES = [(4, 64, 97, 103), (1, 64, 21, 37)]  # the last: CPU-sized
