"""Writes 123.0 where the reference is -inf (log of 0): |c - r| is inf and so is the tolerance
atol + rtol * |r|, and an element compared as diff > tol passes."""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def bad_log_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask, other=1.0)
    y = tl.where(x > 0, tl.log(tl.maximum(x, 1e-30)), 123.0)
    tl.store(out_ptr + offs, y, mask=mask)


class ModelNew(nn.Module):
    def forward(self, x):
        out = torch.empty_like(x)
        n = x.numel()
        bad_log_kernel[(triton.cdiv(n, 1024),)](x, out, n, BLOCK=1024)
        return out
