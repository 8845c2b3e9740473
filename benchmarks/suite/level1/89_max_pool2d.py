"""2-D max pooling, 3x3 window, stride 2, padding 1 (nn.MaxPool2d), as after a ResNet stem."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-5, 1e-5


class Model(nn.Module):
    def __init__(self, kernel_size, stride, padding):
        super().__init__()
        self.pool = nn.MaxPool2d(kernel_size=kernel_size, stride=stride, padding=padding)

    def forward(self, x):
        return self.pool(x)


def get_inputs(batch=16, channels=64, height=112, width=112):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs():
    return [3, 2, 1]


SHAPES = [(4, 96, 225, 223), (1, 3, 57, 61)]  # the last: CPU-sized
