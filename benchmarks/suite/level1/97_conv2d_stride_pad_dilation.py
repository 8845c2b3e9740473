"""2-D convolution with stride 2, padding 2 and dilation 2 (3x3 kernel, 64 -> 128 channels), via F.conv2d on a parameter."""
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPE = torch.float32
# the reference's convolution runs through cuDNN, which PyTorch lets use TF32 for float32
# (torch.backends.cudnn.allow_tf32 defaults to True): on an H200 it differed from full
# float32 by up to 2e-3 (cuDNN without TF32: ~5e-6 from the CPU)
ATOL, RTOL = 1e-2, 1e-2


class Model(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation):
        super().__init__()
        fan_in = in_channels * kernel_size * kernel_size
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size,
                                               kernel_size) / fan_in ** 0.5)
        self.bias = nn.Parameter(torch.randn(out_channels) * 0.1)
        self.stride, self.padding, self.dilation = stride, padding, dilation

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding,
                        dilation=self.dilation)


def get_inputs(batch=16, in_channels=64, height=112, width=112):
    return [torch.randn(batch, in_channels, height, width)]


def get_init_inputs():
    return [64, 128, 3, 2, 2, 2]


SHAPES = [(4, 64, 99, 101), (1, 64, 19, 23)]  # the last: CPU-sized
