"""Inductor's persistent-reduction layout: a block of rows by the whole row (1024), over a
large tensor (16M elements), where the quantified coverage query times out."""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def scale_kernel(x_ptr, out_ptr, xnumel, XBLOCK: tl.constexpr):
    xindex = tl.program_id(0) * XBLOCK + tl.arange(0, XBLOCK)[:, None]
    xmask = xindex < xnumel
    r0 = tl.arange(0, 1024)[None, :]
    x = tl.load(x_ptr + (r0 + 1024 * xindex), xmask)
    tl.store(out_ptr + (r0 + 1024 * xindex), x * 2.0, xmask)


class ModelNew(nn.Module):
    def forward(self, x):
        out = torch.empty_like(x)
        scale_kernel[(triton.cdiv(x.shape[0], 32),)](x, out, x.shape[0], XBLOCK=32)
        return out
