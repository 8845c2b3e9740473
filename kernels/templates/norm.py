"""LayerNorm and RMSNorm over the last dimension(s), with an optional fused residual add.
One program per row; the row is read once and held in registers when it fits one block (up to
MAX_SINGLE columns), else read twice in blocks of 4096. A problem whose forward returns a
layer norm (`F.layer_norm(...)` or an `nn.LayerNorm` it builds) gets a ModelNew built as its
Model is (kernels.construction), normalising over the shape, with the weight, bias and eps, that
its own call names: several trailing dimensions, no affine, another eps.

Tunables: MAX_SINGLE (widest row kept in one block), WARPS_PER_KB; read per call for the
input's shape class (kernels/shapes: SHAPE_AWARE).
"""
FAMILY = "norm"
SHAPE_AWARE = True
REQUIRES = [{"layer_norm"}, {"rsqrt", "mean"}]
PARAMS = {"MAX_SINGLE": [4096, 8192, 16384], "WARPS_PER_KB": [1, 2, 4]}
DEFAULT = {"MAX_SINGLE": 16384, "WARPS_PER_KB": 2}


def valid(config: dict) -> bool:
    return True


SOURCE = r'''
import torch
import torch.nn as nn
import triton
import triton.language as tl

$CONFIG_TABLE
RMS = $RMS
RESIDUAL = $RESIDUAL


@triton.jit
def norm_row(x_ptr, r_ptr, w_ptr, b_ptr, y_ptr, stride, n, eps, BLOCK: tl.constexpr,
             SINGLE: tl.constexpr, RMS: tl.constexpr, RESIDUAL: tl.constexpr,
             HAS_WEIGHT: tl.constexpr, HAS_BIAS: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    x_row = x_ptr + row * stride
    r_row = r_ptr + row * stride
    y_row = y_ptr + row * stride
    if SINGLE:  # the row fits one block: read it once, keep it in registers
        cols = tl.arange(0, BLOCK)
        m = cols < n
        h = tl.load(x_row + cols, mask=m, other=0.0).to(tl.float32)
        if RESIDUAL:
            h += tl.load(r_row + cols, mask=m, other=0.0).to(tl.float32)
        if RMS:
            mean = 0.0
            rstd = 1.0 / tl.sqrt(tl.sum(h * h, axis=0) / n + eps)
        else:
            mean = tl.sum(h, axis=0) / n
            d = tl.where(m, h - mean, 0.0)
            rstd = 1.0 / tl.sqrt(tl.sum(d * d, axis=0) / n + eps)
        y = (h - mean) * rstd
        if HAS_WEIGHT:
            y *= tl.load(w_ptr + cols, mask=m, other=0.0)
        if HAS_BIAS:
            y += tl.load(b_ptr + cols, mask=m, other=0.0)
        tl.store(y_row + cols, y, mask=m)
    else:  # wider rows: one pass for the statistics, one to normalise and write
        acc = tl.zeros((BLOCK,), tl.float32)
        acc2 = tl.zeros((BLOCK,), tl.float32)
        for start in range(0, n, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            h = tl.load(x_row + cols, mask=cols < n, other=0.0).to(tl.float32)
            if RESIDUAL:
                h += tl.load(r_row + cols, mask=cols < n, other=0.0).to(tl.float32)
            acc += h
            acc2 += h * h
        mean = tl.sum(acc, axis=0) / n
        if RMS:
            rstd = 1.0 / tl.sqrt(tl.sum(acc2, axis=0) / n + eps)
            mean = 0.0
        else:
            var = tl.maximum(tl.sum(acc2, axis=0) / n - mean * mean, 0.0)
            rstd = 1.0 / tl.sqrt(var + eps)
        for start in range(0, n, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            m = cols < n
            h = tl.load(x_row + cols, mask=m, other=0.0).to(tl.float32)
            if RESIDUAL:
                h += tl.load(r_row + cols, mask=m, other=0.0).to(tl.float32)
            y = (h - mean) * rstd
            if HAS_WEIGHT:
                y *= tl.load(w_ptr + cols, mask=m, other=0.0)
            if HAS_BIAS:
                y += tl.load(b_ptr + cols, mask=m, other=0.0)
            tl.store(y_row + cols, y, mask=m)


def launch(x, residual, weight, bias, eps, n=None):
    """Normalise each run of the last `n` elements (default: the last dimension)."""
    n = n or x.shape[-1]
    x2 = x.reshape(-1, n).contiguous()
    r2 = residual.reshape(-1, n).contiguous() if residual is not None else x2
    w = weight.reshape(-1).contiguous() if weight is not None else x2
    b = bias.reshape(-1).contiguous() if bias is not None else w
    y = torch.empty_like(x2)
    config = config_for(x)
    single = triton.next_power_of_2(n) <= config["MAX_SINGLE"]
    block = triton.next_power_of_2(n) if single else 4096
    warps = max(1, min(16, config["WARPS_PER_KB"] * block // 1024))
    norm_row[(x2.shape[0],)](x2, r2, w, b, y, x2.stride(0), n, eps, BLOCK=block,
                             SINGLE=single, RMS=RMS, RESIDUAL=residual is not None,
                             HAS_WEIGHT=weight is not None, HAS_BIAS=bias is not None,
                             num_warps=warps)
    return y.reshape(x.shape)


def layer_norm(x, normalized_shape, weight, bias, eps, residual=None):
    """F.layer_norm's arguments (of x + residual): the trailing dimensions `normalized_shape`
    form a row."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
    n = 1
    for d in shape:
        n *= d
    return launch(x, residual, weight, bias, eps, n)


$MODEL
'''

LAYERNORM_MODEL = '''class ModelNew(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.norm = nn.LayerNorm(width)

    def forward(self, x):
        return launch(x, None, self.norm.weight, self.norm.bias, self.norm.eps)'''

RMSNORM_RESIDUAL_MODEL = '''class ModelNew(nn.Module):
    def __init__(self, width, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(width))
        self.eps = eps

    def forward(self, x, residual):
        return launch(x, residual, self.weight, None, self.eps)'''


def _summands(text: str) -> list[str] | None:
    """`x` -> [x]; `x + r` -> [x, r] for plain names; anything else (PyTorch computing in
    forward) -> None."""
    import ast
    node = ast.parse(text, mode="eval").body
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and \
            isinstance(node.left, ast.Name) and isinstance(node.right, ast.Name):
        return [node.left.id, node.right.id]
    return None


def render(config: dict, ops: set[str], problem: str = "") -> str:
    from kernels.construction import construction
    from kernels.shapes import rendered
    rms = "layer_norm" not in ops
    model = RMSNORM_RESIDUAL_MODEL if rms else LAYERNORM_MODEL
    own = construction(problem) if problem and not rms else None
    found = own.operation() if own else None
    inputs = _summands(found[1]["input"]) if found and found[0] == "layer_norm" else None
    if inputs:  # the input, or a sum of two inputs (the residual add, fused)
        a = found[1]
        residual = f", residual={inputs[1]}" if len(inputs) == 2 else ""
        model = own.model_new(f"return layer_norm({inputs[0]}, {a['normalized_shape']}, "
                              f"{a['weight']}, {a['bias']}, {a['eps']}{residual})")
    return rendered(SOURCE, config, RMS=rms, RESIDUAL=rms, MODEL=model)
