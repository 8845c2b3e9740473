import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def layernorm_kernel(x_ptr, w_ptr, b_ptr, y_ptr, stride, n, eps, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    x_row = x_ptr + row * stride
    mean = tl.zeros((BLOCK,), dtype=tl.float32)
    for start in range(0, n, BLOCK):  # a row wider than one block: loop over it
        cols = start + tl.arange(0, BLOCK)
        mean += tl.load(x_row + cols, mask=cols < n, other=0.0)
    mu = tl.sum(mean, axis=0) / n
    var = tl.zeros((BLOCK,), dtype=tl.float32)
    for start in range(0, n, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        d = tl.where(cols < n, tl.load(x_row + cols, mask=cols < n, other=0.0) - mu, 0.0)
        var += d * d
    rstd = 1 / tl.sqrt(tl.sum(var, axis=0) / n + eps)
    for start in range(0, n, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        m = cols < n
        x = tl.load(x_row + cols, mask=m, other=0.0)
        w = tl.load(w_ptr + cols, mask=m)
        b = tl.load(b_ptr + cols, mask=m)
        tl.store(y_ptr + row * stride + cols, (x - mu) * rstd * w + b, mask=m)


class ModelNew(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.norm = nn.LayerNorm(width)

    def forward(self, x):
        y = torch.empty_like(x)
        rows, n = x.shape
        layernorm_kernel[(rows,)](x, self.norm.weight, self.norm.bias, y, x.stride(0), n,
                                  self.norm.eps, BLOCK=256)
        return y
