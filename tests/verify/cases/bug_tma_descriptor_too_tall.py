import torch
import torch.nn as nn
import triton
import triton.language as tl
from triton.tools.tensor_descriptor import TensorDescriptor


@triton.jit
def transpose_tma(x_desc, y_desc, B: tl.constexpr):
    r = tl.program_id(0) * B
    c = tl.program_id(1) * B
    y_desc.store([c, r], tl.trans(x_desc.load([r, c])))


class ModelNew(nn.Module):
    def forward(self, x):
        R, C = x.shape
        y = torch.empty((C, R), dtype=x.dtype, device=x.device)
        # BUG: the descriptor claims 16 more rows than x has; the hardware clips to the
        # descriptor, not to the tensor, so the last block reads past x
        x_desc = TensorDescriptor(x, [R + 16, C], list(x.stride()), [16, 16])
        transpose_tma[(triton.cdiv(R, 16), triton.cdiv(C, 16))](
            x_desc, TensorDescriptor.from_tensor(y, [16, 16]), B=16)
        return y
