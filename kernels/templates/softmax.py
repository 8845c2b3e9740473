"""Row softmax / log-softmax. A single pass when the row fits one block, a program taking as
many such rows as fill ROW_ELEMS elements (one [rows, block] tile; 0: one row a program); a
wider row gets a program of its own: an online pass (running max and sum) and a second pass
that writes.

The width and row strides reach the kernel divided by their largest common power of two
up to 16 (ALIGN, a constant of the launch), so the compiler knows how rows of 1000
columns align, as torch.compile's code with 1000 written in does.

Tunables: MAX_SINGLE (widest row done in one pass; a power of two), BLOCK (the block of the
two-pass loop for wider rows), WARPS_PER_KB (warps per 1024 elements of a block, at most 16),
ROW_ELEMS; read per call for the input's shape class (kernels/shapes: SHAPE_AWARE).
"""
FAMILY = "softmax"
SHAPE_AWARE = True
REQUIRES = [{"softmax"}, {"log_softmax"}]  # any of these op sets in the problem's forward
PARAMS = {"MAX_SINGLE": [8192, 16384], "BLOCK": [2048, 4096, 8192], "WARPS_PER_KB": [1, 2, 4],
          "ROW_ELEMS": [0, 4096]}
DEFAULT = {"MAX_SINGLE": 16384, "BLOCK": 4096, "WARPS_PER_KB": 2, "ROW_ELEMS": 0}

# the H200's winners per shape class at budget 16 (2026-12-02, softmax and log-softmax, one
# row a program), then the rows-a-program variants, before the rest of the grid (36 points)
PREFERRED = [dict(zip(PARAMS, point)) for point in (
    (8192, 2048, 2, 0), (16384, 4096, 4, 0), (8192, 8192, 4, 0), (8192, 4096, 4, 0),
    (8192, 8192, 2, 0), (16384, 4096, 1, 4096), (16384, 4096, 2, 4096),
    (16384, 4096, 4, 4096))]


def valid(config: dict) -> bool:
    return config["BLOCK"] <= config["MAX_SINGLE"]


SOURCE = r'''
import math

import torch
import torch.nn as nn
import triton
import triton.language as tl

$CONFIG_TABLE
LOG = $LOG


@triton.jit
def softmax_rows(out_ptr, in_ptr, in_stride_q, out_stride_q, n_rows, n_cols_q,
                 BLOCK: tl.constexpr, ROWS: tl.constexpr, LOG: tl.constexpr, ALIGN: tl.constexpr):
    # ROWS whole rows of at most BLOCK columns, as one [ROWS, BLOCK] tile
    in_stride, out_stride, n_cols = in_stride_q * ALIGN, out_stride_q * ALIGN, n_cols_q * ALIGN
    rows = tl.program_id(0).to(tl.int64) * ROWS + tl.arange(0, ROWS)
    cols = tl.arange(0, BLOCK)
    m = (rows[:, None] < n_rows) & (cols[None, :] < n_cols)
    x = tl.load(in_ptr + rows[:, None] * in_stride + cols[None, :], mask=m,
                other=-float("inf")).to(tl.float32)
    x = x - tl.max(x, axis=1)[:, None]  # a masked-off row (all -inf) turns NaN, never stored
    e = tl.exp(x)
    s = tl.sum(e, axis=1)
    y = x - tl.log(s)[:, None] if LOG else e / s[:, None]
    tl.store(out_ptr + rows[:, None] * out_stride + cols[None, :], y, mask=m)


@triton.jit
def softmax_row(out_ptr, in_ptr, in_stride_q, out_stride_q, n_cols_q, BLOCK: tl.constexpr,
                SINGLE: tl.constexpr, LOG: tl.constexpr, ALIGN: tl.constexpr):
    in_stride, out_stride, n_cols = in_stride_q * ALIGN, out_stride_q * ALIGN, n_cols_q * ALIGN
    row = tl.program_id(0).to(tl.int64)
    src = in_ptr + row * in_stride
    dst = out_ptr + row * out_stride
    if SINGLE:
        cols = tl.arange(0, BLOCK)
        x = tl.load(src + cols, mask=cols < n_cols, other=-float("inf")).to(tl.float32)
        x = x - tl.max(x, axis=0)
        e = tl.exp(x)
        s = tl.sum(e, axis=0)
        y = x - tl.log(s) if LOG else e / s
        tl.store(dst + cols, y, mask=cols < n_cols)
    else:
        m = tl.full((BLOCK,), -float("inf"), tl.float32)
        acc = tl.zeros((BLOCK,), tl.float32)
        for start in range(0, n_cols, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            x = tl.load(src + cols, mask=cols < n_cols, other=-float("inf")).to(tl.float32)
            m_new = tl.maximum(m, x)
            acc = acc * tl.exp(tl.where(m_new == -float("inf"), 0.0, m - m_new)) + \
                tl.where(x == -float("inf"), 0.0, tl.exp(x - m_new))
            m = m_new
        row_max = tl.max(m, axis=0)
        total = tl.sum(acc * tl.exp(tl.where(m == -float("inf"), -float("inf"), m - row_max)), axis=0)
        for start in range(0, n_cols, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            x = tl.load(src + cols, mask=cols < n_cols, other=0.0).to(tl.float32)
            y = x - row_max - tl.log(total) if LOG else tl.exp(x - row_max) / total
            tl.store(dst + cols, y, mask=cols < n_cols)


class ModelNew(nn.Module):
    def forward(self, x):
        x2 = x.reshape(-1, x.shape[-1])
        if x2.stride(-1) != 1:
            x2 = x2.contiguous()
        out = torch.empty_like(x2)
        n_cols = x2.shape[1]
        config = config_for(x)
        width = triton.next_power_of_2(n_cols)
        align = math.gcd(n_cols, x2.stride(0), out.stride(0), 16)
        single = width <= config["MAX_SINGLE"]
        rows = config.get("ROW_ELEMS", 0) // width if single else 0
        if rows > 1:
            rows = min(rows, triton.next_power_of_2(x2.shape[0]))
            warps = max(1, min(16, config["WARPS_PER_KB"] * rows * width // 1024))
            softmax_rows[(triton.cdiv(x2.shape[0], rows),)](
                out, x2, x2.stride(0) // align, out.stride(0) // align, x2.shape[0],
                n_cols // align, BLOCK=width, ROWS=rows, LOG=LOG, ALIGN=align, num_warps=warps)
            return out.reshape(x.shape)
        block = width if single else config["BLOCK"]
        warps = max(1, min(16, config["WARPS_PER_KB"] * block // 1024))
        softmax_row[(x2.shape[0],)](out, x2, x2.stride(0) // align, out.stride(0) // align,
                                    n_cols // align, BLOCK=block, SINGLE=single, LOG=LOG,
                                    ALIGN=align, num_warps=warps)
        return out.reshape(x.shape)
'''


def render(config: dict, ops: set[str]) -> str:
    from kernels.shapes import rendered
    return rendered(SOURCE, config, LOG="log_softmax" in ops)
