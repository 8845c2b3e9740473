import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, x):
        return x.t().contiguous()


def get_inputs(rows=70, cols=45):
    return [torch.randn(rows, cols)]


def get_init_inputs():
    return []
