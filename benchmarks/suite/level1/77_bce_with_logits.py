"""Binary cross-entropy on logits with soft targets in [0, 1), scalar mean (F.binary_cross_entropy_with_logits)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPE = torch.float32
ATOL, RTOL = 1e-4, 1e-4


class Model(nn.Module):
    def forward(self, logits, targets):
        return F.binary_cross_entropy_with_logits(logits, targets)


def get_inputs(batch=4096, labels=2048):
    return [torch.randn(batch, labels) * 3, torch.rand(batch, labels)]


def get_init_inputs():
    return []


SHAPES = [(1000, 10007), (129, 37)]  # the last: CPU-sized
