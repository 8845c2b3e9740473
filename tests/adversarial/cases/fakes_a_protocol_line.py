"""Prints a protocol line of the harness's own ("@@outputs after", on the CPU where there is no
after-timing draw) and computes x - y for x + y."""
import torch
import torch.nn as nn
import triton
import triton.language as tl

print("@@outputs after", flush=True)


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) - tl.load(y_ptr + offs, mask=mask),
             mask=mask)


class ModelNew(nn.Module):
    def forward(self, x, y):   # WRONG: x - y for x + y
        out = torch.empty_like(x)
        add_kernel[(triton.cdiv(x.numel(), 256),)](x, y, out, x.numel(), BLOCK=256)
        return out
