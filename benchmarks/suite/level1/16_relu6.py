"""ReLU6 on an NCHW activation: min(max(x, 0), 6) (nn.ReLU6)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.act = nn.ReLU6()

    def forward(self, x):
        return self.act(x)


def get_inputs(batch=16, channels=64, height=112, width=112):
    return [torch.randn(batch, channels, height, width) * 4]


def get_init_inputs():
    return []


SHAPES = [(1, 144, 56, 56), (2, 9, 55, 57)]  # the last: CPU-sized
