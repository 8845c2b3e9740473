"""1-D average pooling, kernel 5, stride 3, padding 2, padded zeros counted (nn.AvgPool1d defaults)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-5, 1e-5


class Model(nn.Module):
    def __init__(self, kernel_size, stride, padding):
        super().__init__()
        self.pool = nn.AvgPool1d(kernel_size=kernel_size, stride=stride, padding=padding)

    def forward(self, x):
        return self.pool(x)


def get_inputs(batch=32, channels=128, length=4096):
    return [torch.randn(batch, channels, length)]


def get_init_inputs():
    return [5, 3, 2]


SHAPES = [(8, 100, 10007), (3, 5, 999)]  # the last: CPU-sized
