"""Transposed 2-D convolution (upsampling x2): 64 -> 32 channels, kernel 4, stride 2, padding 1 (nn.ConvTranspose2d)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
# the reference's convolution runs through cuDNN, which PyTorch lets use TF32 for float32
# (torch.backends.cudnn.allow_tf32 defaults to True): on an H200 it differed from full
# float32 by up to 2e-3 (cuDNN without TF32: ~5e-6 from the CPU)
ATOL, RTOL = 1e-2, 1e-2


class Model(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding):
        super().__init__()
        self.deconv = nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride=stride,
                                         padding=padding)

    def forward(self, x):
        return self.deconv(x)


def get_inputs(batch=16, in_channels=64, height=56, width=56):
    return [torch.randn(batch, in_channels, height, width)]


def get_init_inputs():
    return [64, 32, 4, 2, 1]


SHAPES = [(4, 64, 57, 61), (1, 64, 9, 11)]  # the last: CPU-sized
