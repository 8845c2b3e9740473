"""The batched-columns kernel with its last row never written."""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def scale_kernel(x_ptr, out_ptr, xnumel, rows, cols, XBLOCK: tl.constexpr, RBLOCK: tl.constexpr):
    block = tl.num_programs(0) - 1 - tl.program_id(0)
    xindex = block * XBLOCK + tl.arange(0, XBLOCK)[:, None]
    xmask = xindex < xnumel
    r = tl.arange(0, RBLOCK)[None, :]
    rmask = r < rows - 1  # the last row is never written
    x0 = xindex % cols
    x1 = xindex // cols
    x = tl.load(x_ptr + (x0 + cols * r + cols * rows * x1), xmask & rmask)
    tl.store(out_ptr + (x0 + cols * r + cols * rows * x1), x * 2.0, xmask & rmask)


class ModelNew(nn.Module):
    def forward(self, x):
        batch, rows, cols = x.shape
        out = torch.empty_like(x)
        scale_kernel[(triton.cdiv(batch * cols, 8),)](x, out, batch * cols, rows, cols,
                                                      XBLOCK=8, RBLOCK=triton.next_power_of_2(rows))
        return out
