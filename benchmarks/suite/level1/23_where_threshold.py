"""Select between two tensors by a threshold on the first: torch.where(x > threshold, x, y), threshold = 0.25."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, threshold):
        super().__init__()
        self.threshold = threshold

    def forward(self, x, y):
        return torch.where(x > self.threshold, x, y)


def get_inputs(rows=4096, cols=4096):
    return [torch.randn(rows, cols), torch.randn(rows, cols)]


def get_init_inputs():
    return [0.25]


SHAPES = [(999, 4099), (129, 37)]  # the last: CPU-sized
