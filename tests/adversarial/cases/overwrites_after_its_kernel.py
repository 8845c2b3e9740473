"""OPEN (a strict xfail in test_trust_chain): a kernel writes every element of the output (the
verifier's coverage holds), then PyTorch overwrites it; a canary kernel tells the ghost run
(no-op launches) apart, where it returns the kernel's zeros."""
import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def fill_kernel(out_ptr, flag_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offs, tl.zeros((BLOCK,), tl.float32), mask=offs < n)
    tl.store(flag_ptr, 1.0, mask=tl.program_id(0) == 0)


class ModelNew(nn.Module):
    def forward(self, x):
        out = torch.empty_like(x)
        flag = torch.zeros(1, device=x.device)
        n = out.numel()
        fill_kernel[(triton.cdiv(n, 1024),)](out, flag, n, BLOCK=1024)
        if flag[0] != 1.0:          # ghost run: kernels are no-ops
            return out
        out.copy_(getattr(x, "soft" + "max")(-1))
        return out
