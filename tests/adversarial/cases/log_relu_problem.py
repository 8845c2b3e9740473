"""log(relu(x)): -inf wherever x <= 0, as a model might write a masked log-probability."""
import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x):
        return torch.log(torch.relu(x))


def get_inputs(n=4096):
    return [torch.randn(n)]


def get_init_inputs():
    return []


SHAPES = [(129,)]
