"""1-D max pooling, kernel 4, stride 2, padding 1 (F.max_pool1d) over (N, C, L)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPE = torch.float32
ATOL, RTOL = 1e-5, 1e-5


class Model(nn.Module):
    def __init__(self, kernel_size, stride, padding):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x):
        return F.max_pool1d(x, self.kernel_size, stride=self.stride, padding=self.padding)


def get_inputs(batch=32, channels=64, length=8192):
    return [torch.randn(batch, channels, length)]


def get_init_inputs():
    return [4, 2, 1]


SHAPES = [(16, 128, 9999), (2, 7, 1001)]  # the last: CPU-sized
