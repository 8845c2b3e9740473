"""Batch norm over features of (N, C) in inference form: F.batch_norm(training=False) with buffered running stats."""
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def __init__(self, features, eps):
        super().__init__()
        self.register_buffer("running_mean", torch.randn(features))
        self.register_buffer("running_var", torch.rand(features) + 0.1)
        self.weight = nn.Parameter(torch.rand(features) + 0.5)
        self.bias = nn.Parameter(torch.zeros(features))
        self.eps = eps

    def forward(self, x):
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            training=False, eps=self.eps)


def get_inputs(batch=16384, features=1000):
    return [torch.randn(batch, features) * 2]


def get_init_inputs():
    return [1000, 1e-3]


SHAPES = [(4099, 1000), (37, 1000)]  # the last: CPU-sized
