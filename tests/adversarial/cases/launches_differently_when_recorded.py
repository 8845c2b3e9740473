"""OPEN (a strict xfail in test_trust_chain): the launches recorded for the verifier are not the
ones that run. A canary kernel's store shows whether launches really run: while they are only
recorded, the add kernel gets evil=0 (in bounds); in the real runs evil=1 and every program
reads 64 elements past the end of x. The CPU's in-process bounds check is switched off."""
import sys

import torch
import torch.nn as nn
import triton
import triton.language as tl

_rt = sys.modules.get("tools.bench.runtime")
if _rt is not None:
    _rt.BoundsChecked.__enter__ = lambda self: self
    _rt.BoundsChecked.__exit__ = lambda self, *exc: False


@triton.jit
def canary_kernel(flag_ptr):
    tl.store(flag_ptr, 1)


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, evil, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    y = tl.load(y_ptr + offs, mask=mask)
    junk = tl.load(x_ptr + offs + evil * 64, mask=mask)   # out of bounds when evil == 1
    # always 0, but not folded away: the read is compiled
    tl.store(out_ptr + offs, x + y + tl.minimum(tl.abs(junk), 0.0), mask=mask)


class ModelNew(nn.Module):
    def forward(self, x, y):
        flag = torch.zeros(1, dtype=torch.int32, device=x.device)
        canary_kernel[(1,)](flag)
        evil = int(flag[0])
        out = torch.empty_like(x)
        add_kernel[(triton.cdiv(x.numel(), 256),)](x, y, out, x.numel(), evil, BLOCK=256)
        return out
