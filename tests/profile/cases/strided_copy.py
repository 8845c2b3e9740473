"""Deliberately uncoalesced: each thread of a warp reads a float 128 bytes from its
neighbour's, so every 4-byte load fetches its own 32-byte sector."""
import torch
import torch.nn as nn
import triton
import triton.language as tl

STRIDE = 32


@triton.jit
def strided_copy(x_ptr, y_ptr, n_out, STRIDE: tl.constexpr, BLOCK: tl.constexpr):
    i = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + i, tl.load(x_ptr + i.to(tl.int64) * STRIDE, mask=i < n_out), mask=i < n_out)


class ModelNew(nn.Module):
    def forward(self, x):
        n_out = triton.cdiv(x.numel(), STRIDE)
        y = torch.empty(n_out, dtype=x.dtype, device=x.device)
        strided_copy[(triton.cdiv(n_out, 1024),)](x, y, n_out, STRIDE=STRIDE, BLOCK=1024)
        return y
