"""Row softmax over rows of 2048 float32 (the spilling candidate's register cap is too low)."""
import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1)


def get_inputs(rows=65536, cols=2048):
    return [torch.randn(rows, cols)]


def get_init_inputs():
    return []


SHAPES = [(3, 2048)]
