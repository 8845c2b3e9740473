"""Linear (1024 -> 512) then a sum over the output features with keepdim: fc(x).sum(dim=1, keepdim=True)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
# dot products of 1024 terms summed over 512 outputs (results of order 10): summation order
ATOL, RTOL = 1e-3, 1e-3


class Model(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.fc = nn.Linear(in_features, out_features)

    def forward(self, x):
        return self.fc(x).sum(dim=1, keepdim=True)


def get_inputs(batch=8192, in_features=1024):
    return [torch.randn(batch, in_features)]


def get_init_inputs():
    return [1024, 512]


SHAPES = [(999, 1024), (13, 1024)]  # the last: CPU-sized
