"""2-D average pooling with a 2x2 window and stride 2 (F.avg_pool2d(x, 2)); odd sizes drop the last row/column."""
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPE = torch.float32
ATOL, RTOL = 1e-5, 1e-5


class Model(nn.Module):
    def forward(self, x):
        return F.avg_pool2d(x, 2)


def get_inputs(batch=16, channels=64, height=128, width=128):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs():
    return []


SHAPES = [(8, 128, 111, 113), (2, 5, 37, 41)]  # the last: CPU-sized
