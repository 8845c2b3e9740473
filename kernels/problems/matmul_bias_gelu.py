"""bf16 linear layer with a fused bias + tanh-GELU epilogue: gelu(x @ W^T + b), as an MLP's
first projection. Accumulation in float32; the result is bf16. Weight and bias are inputs, so
every input set chooses all three sizes."""
import torch
import torch.nn as nn
import torch.nn.functional as F

DTYPE = torch.bfloat16
# the reference rounds x @ W^T + b to bf16 before GELU, a fused epilogue does not: one bf16
# rounding step (2^-8 relative) apart
ATOL, RTOL = 2e-2, 2e-2


class Model(nn.Module):
    def forward(self, x, weight, bias):
        return F.gelu(F.linear(x, weight, bias), approximate="tanh")


def get_inputs(tokens=8192, in_features=8192, out_features=8192):
    scale = in_features ** -0.5  # nn.Linear's initial range: outputs of order 1
    return [torch.randn(tokens, in_features),
            (torch.rand(out_features, in_features) * 2 - 1) * scale,
            (torch.rand(out_features) * 2 - 1) * scale]


def get_init_inputs():
    return []


SHAPES = [(1000, 4096, 11008), (24, 96, 80), (20, 37, 24)]  # a Llama MLP width; the last two
# CPU-sized, uneven; 37 columns of x are not 16-byte rows (the pointer path, not TMA)
