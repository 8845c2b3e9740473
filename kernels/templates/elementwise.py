"""Fused elementwise epilogues over a flat tensor: bias + GELU (tanh or exact erf, as the problem
asks) and SwiGLU (silu(a) * b); and a plain GELU or SiLU where the problem's forward returns one
of its inputs through it (a ModelNew built as the problem's Model is, kernels.construction).
Memory-bound: one read of each input and one write, 128-bit accesses when aligned.

Tunables: BLOCK (elements per program), num_warps; read per call for the input's shape class
(kernels/shapes: SHAPE_AWARE).
"""
FAMILY = "elementwise"
SHAPE_AWARE = True
REQUIRES = [{"gelu"}, {"silu"}]
PARAMS = {"BLOCK": [1024, 2048, 4096, 8192], "num_warps": [4, 8]}
DEFAULT = {"BLOCK": 4096, "num_warps": 8}


def valid(config: dict) -> bool:
    return config["BLOCK"] // (32 * config["num_warps"]) >= 4


SOURCE = r'''
import torch
import torch.nn as nn
import triton
import triton.language as tl

$CONFIG_TABLE
TANH = $TANH  # the problem's GELU: tanh approximation (1) or exact erf (0)


@triton.jit
def bias_gelu_kernel(x_ptr, b_ptr, out_ptr, n, width, BLOCK: tl.constexpr, TANH: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    v = (tl.load(x_ptr + offs, mask=mask) + tl.load(b_ptr + offs % width, mask=mask)).to(tl.float32)
    if TANH:
        inner = 0.7978845608028654 * (v + 0.044715 * v * v * v)
        y = 0.5 * v * (1.0 + (2.0 * tl.sigmoid(2.0 * inner) - 1.0))
    else:  # exact: 0.5 v (1 + erf(v / sqrt 2))
        y = 0.5 * v * (1.0 + tl.erf(v * 0.7071067811865476))
    tl.store(out_ptr + offs, y, mask=mask)


@triton.jit
def swiglu_kernel(a_ptr, b_ptr, out_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    a = tl.load(a_ptr + offs, mask=mask).to(tl.float32)
    b = tl.load(b_ptr + offs, mask=mask).to(tl.float32)
    tl.store(out_ptr + offs, a * tl.sigmoid(a) * b, mask=mask)


@triton.jit
def unary_kernel(x_ptr, out_ptr, n, BLOCK: tl.constexpr, ACT: tl.constexpr):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    v = tl.load(x_ptr + offs, mask=mask).to(tl.float32)
    if ACT == 1:  # GELU, tanh approximation
        inner = 0.7978845608028654 * (v + 0.044715 * v * v * v)
        y = 0.5 * v * (1.0 + (2.0 * tl.sigmoid(2.0 * inner) - 1.0))
    elif ACT == 2:  # GELU, exact erf
        y = 0.5 * v * (1.0 + tl.erf(v * 0.7071067811865476))
    else:  # SiLU
        y = v * tl.sigmoid(v)
    tl.store(out_ptr + offs, y, mask=mask)


def unary(x, kind):
    """`kind`: GELU's `approximate` ("tanh" or "none"), or "silu"."""
    x = x.contiguous()
    out = torch.empty_like(x)
    n = x.numel()
    config = config_for(x)
    unary_kernel[(triton.cdiv(n, config["BLOCK"]),)](x, out, n, BLOCK=config["BLOCK"],
                                                     ACT={"tanh": 1, "none": 2, "silu": 3}[kind],
                                                     num_warps=config["num_warps"])
    return out


$MODEL
'''

GELU_MODEL = '''class ModelNew(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.bias = nn.Parameter(torch.randn(width))

    def forward(self, x):
        x = x.contiguous()
        out = torch.empty_like(x)
        n = x.numel()
        config = config_for(x)
        bias_gelu_kernel[(triton.cdiv(n, config["BLOCK"]),)](
            x, self.bias, out, n, x.shape[-1], BLOCK=config["BLOCK"], TANH=TANH,
            num_warps=config["num_warps"])
        return out'''

SWIGLU_MODEL = '''class ModelNew(nn.Module):
    def forward(self, a, b):
        a, b = a.contiguous(), b.contiguous()
        out = torch.empty_like(a)
        n = a.numel()
        config = config_for(a)
        swiglu_kernel[(triton.cdiv(n, config["BLOCK"]),)](a, b, out, n, BLOCK=config["BLOCK"],
                                                          num_warps=config["num_warps"])
        return out'''


def render(config: dict, ops: set[str], problem: str = "") -> str:
    from kernels.construction import construction
    from kernels.shapes import rendered
    model = GELU_MODEL if "gelu" in ops else SWIGLU_MODEL
    own = construction(problem) if problem else None
    found = own.operation() if own else None
    # only an input passed straight in: an expression there would be PyTorch computing
    if found and found[0] in ("gelu", "silu") and found[1]["input"].isidentifier():
        kind = found[1]["approximate"] if found[0] == "gelu" else "'silu'"
        model = own.model_new(f"return unary({found[1]['input']}, {kind})")
    return rendered(SOURCE, config, MODEL=model, TANH=int("gelu_tanh" in ops))
