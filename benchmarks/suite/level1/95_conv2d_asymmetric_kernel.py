"""2-D convolution with an asymmetric 3x7 kernel and matching (1, 3) padding, 32 -> 64 channels, no bias."""
import torch
import torch.nn as nn

DTYPE = torch.float32
# the reference's convolution runs through cuDNN, which PyTorch lets use TF32 for float32
# (torch.backends.cudnn.allow_tf32 defaults to True): on an H200 it differed from full
# float32 by up to 2e-3 (cuDNN without TF32: ~5e-6 from the CPU)
ATOL, RTOL = 1e-2, 1e-2


class Model(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, padding):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, padding=padding, bias=False)

    def forward(self, x):
        return self.conv(x)


def get_inputs(batch=8, in_channels=32, height=128, width=128):
    return [torch.randn(batch, in_channels, height, width)]


def get_init_inputs():
    return [32, 64, (3, 7), (1, 3)]


SHAPES = [(4, 32, 99, 101), (1, 32, 9, 17)]  # the last: CPU-sized
