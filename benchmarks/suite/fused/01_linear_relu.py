"""Linear layer (1024 -> 1024, with bias) followed by ReLU: relu(x @ W^T + b)."""
import torch
import torch.nn as nn

DTYPE = torch.float32
# float32 dot products of 1024 terms: blocking and split-K change the summation order
ATOL, RTOL = 1e-3, 1e-3


class Model(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.fc = nn.Linear(in_features, out_features)

    def forward(self, x):
        return torch.relu(self.fc(x))


def get_inputs(batch=8192, in_features=1024):
    return [torch.randn(batch, in_features)]


def get_init_inputs():
    return [1024, 1024]


SHAPES = [(1000, 1024), (7, 1024)]  # the last: CPU-sized
