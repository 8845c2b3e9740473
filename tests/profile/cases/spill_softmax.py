"""Forced register spills: two warps hold a 2048-wide row (32 floats a thread) live across two
reductions, with the compiler capped at 32 registers a thread (maxnreg)."""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def softmax_capped(x_ptr, y_ptr, n_cols, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK)
    x = tl.load(x_ptr + row * n_cols + cols, mask=cols < n_cols, other=-float("inf"))
    e = tl.exp(x - tl.max(x, axis=0))
    tl.store(y_ptr + row * n_cols + cols, e / tl.sum(e, axis=0), mask=cols < n_cols)


class ModelNew(nn.Module):
    def forward(self, x):
        y = torch.empty_like(x)
        softmax_capped[(x.shape[0],)](x, y, x.shape[1], BLOCK=triton.next_power_of_2(x.shape[1]),
                                      num_warps=2, maxnreg=32)
        return y
