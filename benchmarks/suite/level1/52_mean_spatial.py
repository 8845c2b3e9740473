"""Mean over both spatial dims of NCHW (global average), no keepdim: x.mean(dim=(2, 3))."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-5, 1e-4


class Model(nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3))


def get_inputs(batch=16, channels=256, height=56, width=56):
    return [torch.randn(batch, channels, height, width) + 0.5]


def get_init_inputs():
    return []


SHAPES = [(8, 2048, 7, 7), (3, 65, 17, 19)]  # the last: CPU-sized
