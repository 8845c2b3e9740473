"""BatchNorm2d in eval mode (running statistics, not batch statistics), with non-trivial running mean/var and affine."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.bn = nn.BatchNorm2d(channels)
        with torch.no_grad():
            self.bn.running_mean.copy_(torch.randn(channels) * 0.5)
            self.bn.running_var.copy_(torch.rand(channels) * 2 + 0.5)
            self.bn.weight.copy_(torch.randn(channels) * 0.2 + 1)
            self.bn.bias.copy_(torch.randn(channels) * 0.2)
        self.eval()

    def forward(self, x):
        return self.bn(x)


def get_inputs(batch=32, channels=128, height=56, width=56):
    return [torch.randn(batch, channels, height, width)]


def get_init_inputs():
    return [128]


SHAPES = [(5, 128, 57, 59), (1, 128, 13, 15)]  # the last: CPU-sized
