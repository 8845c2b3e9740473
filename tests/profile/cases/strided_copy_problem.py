"""Copy every 32nd float32 of a long vector (a gather with a fixed stride)."""
import torch
import torch.nn as nn

STRIDE = 32


class Model(nn.Module):
    def forward(self, x):
        return x[::STRIDE].clone()


# ~0.35 ms on an H200, so the events' few microseconds of launch overhead stay well inside the
# 10% that the harness and ncu may differ by (at 2**27, ~0.09 ms, they were 10.1% apart)
def get_inputs(n=2**29):
    return [torch.randn(n)]


def get_init_inputs():
    return []


SHAPES = [(4096,)]
