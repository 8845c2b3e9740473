"""3-D convolution, 3x3x3 kernel, padding 1, 16 -> 32 channels, with bias (nn.Conv3d) over (N, C, D, H, W)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
# the reference's convolution runs through cuDNN, which PyTorch lets use TF32 for float32
# (torch.backends.cudnn.allow_tf32 defaults to True): on an H200 it differed from full
# float32 by up to 2e-3 (cuDNN without TF32: ~5e-6 from the CPU)
ATOL, RTOL = 1e-2, 1e-2


class Model(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size):
        super().__init__()
        self.conv = nn.Conv3d(in_channels, out_channels, kernel_size, padding=kernel_size // 2)

    def forward(self, x):
        return self.conv(x)


def get_inputs(batch=8, in_channels=16, depth=16, height=64, width=64):
    return [torch.randn(batch, in_channels, depth, height, width)]


def get_init_inputs():
    return [16, 32, 3]


SHAPES = [(2, 16, 17, 33, 31), (1, 16, 5, 9, 11)]  # the last: CPU-sized
