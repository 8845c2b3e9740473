import torch
import torch.nn as nn


class Model(nn.Module):
    """Outputs around 1e-6: all zeros would sit inside an absolute tolerance of 1e-4."""

    def forward(self, x):
        return x * 1e-6


def get_inputs(n=2048):
    return [torch.randn(n)]


def get_init_inputs():
    return []
