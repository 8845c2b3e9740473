"""InstanceNorm1d with affine weight/bias, (N, C, L): each (sample, channel) row normalised over L, eps 1e-4."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, channels, eps):
        super().__init__()
        self.norm = nn.InstanceNorm1d(channels, eps=eps, affine=True)
        with torch.no_grad():
            self.norm.weight.copy_(torch.randn(channels) * 0.1 + 1)
            self.norm.bias.copy_(torch.randn(channels) * 0.1)

    def forward(self, x):
        return self.norm(x)


def get_inputs(batch=32, channels=256, length=2048):
    return [torch.randn(batch, channels, length)]


def get_init_inputs():
    return [256, 1e-4]


SHAPES = [(3, 256, 9999), (2, 256, 37)]  # the last: CPU-sized
