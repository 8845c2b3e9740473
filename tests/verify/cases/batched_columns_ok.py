"""Inductor's layout for a reduction along the middle dimension: a flat index over (batch,
column) pairs split by division (x0 = xindex % cols, x1 = xindex // cols), the middle dimension
in the lanes; the column blocks taken last first (as causal attention takes its query blocks).
Coverage and race-freedom need each element's writer constructed: the quantified queries time
out on these sizes."""
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
    rmask = r < rows
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
