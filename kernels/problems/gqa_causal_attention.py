"""Causal attention forward with grouped-query heads (32 query heads share 8 KV heads), bf16,
head dimension 128: softmax(q k^T / sqrt(128) + causal mask) v, as in a Llama-style decoder."""
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPE = torch.bfloat16
ATOL, RTOL = 2e-2, 2e-2


class Model(nn.Module):
    def forward(self, q, k, v):
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)


def get_inputs(batch=4, seq=4096, q_heads=32, kv_heads=8, head_dim=128):
    return [torch.randn(batch, q_heads, seq, head_dim),
            torch.randn(batch, kv_heads, seq, head_dim),
            torch.randn(batch, kv_heads, seq, head_dim)]


def get_init_inputs():
    return []


SHAPES = [(2, 1000), (1, 77, 4, 2), (1, 256, 4, 2)]  # 1000, 77: non-multiples of any block
# (the pointer path); the last two CPU-sized, 256 whole blocks (the TMA path)
