"""Linear (1024 -> 1024) plus its input as a residual, then ReLU: relu(fc(x) + x)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPE = torch.float32
# float32 dot products of 1024 terms: blocking and split-K change the summation order
ATOL, RTOL = 1e-3, 1e-3


class Model(nn.Module):
    def __init__(self, features):
        super().__init__()
        self.fc = nn.Linear(features, features)

    def forward(self, x):
        return F.relu(self.fc(x) + x)


def get_inputs(batch=8192, features=1024):
    return [torch.randn(batch, features)]


def get_init_inputs():
    return [1024]


SHAPES = [(1001, 1024), (9, 1024)]  # the last: CPU-sized
