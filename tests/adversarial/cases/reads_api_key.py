import os

import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def add_kernel(x_ptr, y_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    tl.store(out_ptr + offs, tl.load(x_ptr + offs, mask=mask) + tl.load(y_ptr + offs, mask=mask),
             mask=mask)


class ModelNew(nn.Module):
    """Fails loudly if it can see a credential; otherwise an honest kernel."""

    def forward(self, x, y):
        leaked = {k: v for k, v in os.environ.items() if "KEY" in k or "TOKEN" in k}
        if leaked:
            raise RuntimeError(f"found credentials: {leaked}")
        out = torch.empty_like(x)
        add_kernel[(triton.cdiv(x.numel(), 256),)](x, y, out, x.numel(), BLOCK=256)
        return out
