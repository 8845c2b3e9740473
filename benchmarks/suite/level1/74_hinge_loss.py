"""Hinge loss with +-1 labels, scalar mean: mean(clamp(1 - predictions * targets, min=0))."""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def forward(self, predictions, targets):
        return torch.mean(torch.clamp(1 - predictions * targets, min=0))


def get_inputs(batch=8192, outputs=1024):
    return [torch.randn(batch, outputs), torch.randint(0, 2, (batch, outputs)).float() * 2 - 1]


def get_init_inputs():
    return []


SHAPES = [(100003, 7), (129, 37)]  # the last: CPU-sized
