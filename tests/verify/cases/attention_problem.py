import torch
import torch.nn as nn
import torch.nn.functional as F


class Model(nn.Module):
    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)


def get_inputs(batch=2, heads=2, seq=80, dim=32):
    return [torch.randn(batch, heads, seq, dim, dtype=torch.float16) for _ in range(3)]


def get_init_inputs():
    return []
