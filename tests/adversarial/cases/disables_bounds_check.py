"""Switches off the CPU's in-process bounds check (through sys.modules: no static finding) and
reads 64 elements past the end of x. The check's silence clears nothing: Z3 finds the read."""
import sys

import torch
import torch.nn as nn
import triton
import triton.language as tl

rt = sys.modules["tools.bench.runtime"]
rt.BoundsChecked.__enter__ = lambda self: self
rt.BoundsChecked.__exit__ = lambda self, *exc: False


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    y = tl.load(y_ptr + offs, mask=mask)
    tl.store(out_ptr + offs, x + y, mask=mask)
    # reads 64 elements past the end of x (the last program): out of bounds
    junk = tl.load(x_ptr + offs + 64, mask=mask)
    # a term that is always 0 but that Triton cannot fold away, so the read is compiled
    tl.store(out_ptr + offs, x + y + tl.minimum(tl.abs(junk), 0.0), mask=mask)


class ModelNew(nn.Module):
    def forward(self, x, y):
        out = torch.empty_like(x)
        add_kernel[(triton.cdiv(x.numel(), 256),)](x, y, out, x.numel(), BLOCK=256)
        return out
