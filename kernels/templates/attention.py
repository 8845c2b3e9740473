"""Causal attention forward (FlashAttention-2 style) with grouped-query heads: a program owns
BLOCK_M queries of one (batch, query head) and streams the keys and values of the head's KV
group through an online softmax, so the seq x seq scores never reach memory. Keys wholly
below the diagonal are processed without masks; only the diagonal blocks apply the causal
(and sequence-end) mask. Programs start with the longest rows (the last query blocks), which
evens out the tail of a causal launch; HEADS_FIRST orders the grid so that every head's
longest rows come before any head's shorter ones (and query heads of one KV group run side by
side).

Q, K, V and the output are read and written by TMA where their layout allows it (contiguous,
16-byte aligned): when the sequence is a whole number of query blocks through descriptors over
the flattened (batch * heads * seq, head_dim) rows, otherwise through per-head 3-D descriptors
(heads, seq, head_dim) whose bounds stop a tile at its head's last row (the hardware fills the
rows past it with zeros on a load and drops them on a store; causality already masks keys
past the last query). Elsewhere by masked pointer loads.

PERSISTENT launches one program per SM, each walking the (query block, head) tiles from the
longest rows down, strided by the program count, instead of one program per tile.

LAZY_RESCALE (as FlashAttention-4 does) keeps each row's reference max until some row's max
has risen by more than a factor of 2^8: rescaling the whole BLOCK_M x HEAD_DIM accumulator is
then skipped on most steps, at the cost of one program-wide max per step. The result is the
same: acc and l_i always share their reference.

MAXNREG caps the registers a thread may use (Triton's `maxnreg`; 0: the compiler's choice), for 8
warps only. On the H200 (Triton 3.6) the 4-warp 128x64 winner takes 255 registers and spills 24
bytes a thread, which still lets two programs share an SM (FlashAttention-3's two warp groups,
by other means); the 8-warp 128x64 takes 140, so only one 8-warp program fits, and 128 fits two
(benchmarks/measured/h200-profile-attention-2026-12-03.txt). Run-9 (2026-12-03) timed the cap:
8-warp 128x64 1.475 ms uncapped, 1.113-1.130 ms capped, against the 4-warp winner's 1.067.

Tunables: BLOCK_M (queries per program, at most 32 a warp), BLOCK_N (keys per step; divides
BLOCK_M), num_warps, num_stages, HEADS_FIRST, LAZY_RESCALE, PERSISTENT, MAXNREG, RAGGED_TMA (0:
pointer loads where the sequence is not a whole number of query blocks, as before the 3-D
descriptors; the search keeps both until a GPU has measured them); read per call for the input's
shape class (kernels/shapes: SHAPE_AWARE), so a short sequence can take its own tiles. Triton
3.6's warp specialization of the key loop was tried on an H100: no faster, and it crashed the
compiler at 128x64 with 4 warps; compiled for sm_90 offline with Triton 3.6 (2026-12-03) it
still crashes there, and at 8 warps (128x64, 256x64, 128x128) the code is the same as without it
(registers and instructions): that Hopper pass leaves this loop alone. Issuing the next key
block's scores before this block's softmax (the overlap FlashAttention-3 gets within a warp
group) was written and compiled for sm_90 offline (Triton 3.9's bundled ptxas, 2026-12-03): the
compiler waits for that dot right after issuing it (`warp_group_dot_wait`, no pending dots)
before the softmax, so nothing overlaps, and the second score tile only adds registers; it was
not kept (benchmarks/measured/cpu-sm90-offline). The head dimension must be a power of two (it
is one tile).
"""
FAMILY = "attention"
SHAPE_AWARE = True
REQUIRES = [{"scaled_dot_product_attention", "causal"}]
PARAMS = {"BLOCK_M": [128, 64, 256], "BLOCK_N": [64, 128, 32], "num_warps": [4, 8],
          "num_stages": [2, 3, 4], "HEADS_FIRST": [0, 1], "LAZY_RESCALE": [0, 1],
          "RAGGED_TMA": [1, 0], "PERSISTENT": [0, 1], "MAXNREG": [0, 128]}


def _point(m, n, warps, stages, heads_first=0, lazy_rescale=0, ragged_tma=1, persistent=0,
           maxnreg=0):
    return {"BLOCK_M": m, "BLOCK_N": n, "num_warps": warps, "num_stages": stages,
            "HEADS_FIRST": heads_first, "LAZY_RESCALE": lazy_rescale, "RAGGED_TMA": ragged_tma,
            "PERSISTENT": persistent, "MAXNREG": maxnreg}


DEFAULT = _point(128, 64, 4, 2)
# the H200's screens (ms on 4x32x4096 / 2x32x1000), run-8: 128x64/4 warps/2 stages 1.059 /
# 0.067, pointer loads 1.062 / 0.096, heads first 1.076 / 0.052, 64x64/4/3 1.113 / 0.058 (first
# on the two short sets), lazy rescale 1.148, 128x128/8/3 1.219, every persistent variant
# 1.54-1.99; run-9: 8-warp 128x64 capped at 128 registers 1.113-1.130, uncapped 1.290-1.481,
# 128x128/8/2 1.296; run-10: 256-query blocks on 8 warps 1.265 (64 keys, 3 stages) to 1.750
# (32 keys), the 4-warp 128x32 1.425, so those are gone. The ones that came close:
PREFERRED = [_point(64, 64, 4, 3), _point(128, 64, 4, 2, 1), _point(128, 64, 4, 2, ragged_tma=0),
             _point(64, 64, 4, 3, ragged_tma=0), _point(128, 64, 4, 2, 1, ragged_tma=0),
             _point(128, 64, 8, 2, maxnreg=128), _point(128, 64, 8, 2, 1, maxnreg=128),
             _point(128, 128, 8, 3), _point(64, 64, 4, 2)]


def valid(config: dict) -> bool:
    # a 4-warp program's 255 registers capped at 128 would mostly spill; a warp group (4
    # warps) holding more than 128 rows' accumulators would too
    return config["BLOCK_M"] % config["BLOCK_N"] == 0 and (
        not config.get("MAXNREG") or config["num_warps"] == 8) and \
        config["BLOCK_M"] <= 32 * config["num_warps"]


SOURCE = r'''
import math

import torch
import torch.nn as nn
import triton
import triton.language as tl
from triton.tools.tensor_descriptor import TensorDescriptor

$CONFIG_TABLE
@triton.jit
def _rows(src, head, first, seq, stride, offs, HEAD_DIM: tl.constexpr, MASKED: tl.constexpr,
          TMA: tl.constexpr):
    # a [rows, HEAD_DIM] tile of one head from its row `first`: TMA 1 reads it through a
    # descriptor over the flattened (batch * heads * seq, HEAD_DIM) rows, TMA 2 through a
    # (batch * heads, seq, HEAD_DIM) one, TMA 0 by pointers (src: the head's base)
    if TMA == 1:
        return src.load([head * seq + first, 0])
    elif TMA == 2:
        return src.load([head, first, 0]).reshape(offs.shape[0], HEAD_DIM)
    else:
        ptrs = src + offs[:, None].to(tl.int64) * stride + tl.arange(0, HEAD_DIM)[None, :]
        if MASKED:
            return tl.load(ptrs, mask=offs[:, None] < seq, other=0.0)
        else:
            return tl.load(ptrs)


@triton.jit
def _attend(acc, l_i, m_i, q, k_src, v_src, kv_head, sks, svs, offs_m, start, stop, seq,
            qk_scale, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr, DIAGONAL: tl.constexpr,
            TMA: tl.constexpr, LAZY_RESCALE: tl.constexpr):
    offs_n = tl.arange(0, BLOCK_N)
    for start_n in range(start, stop, BLOCK_N):
        cols = start_n + offs_n
        # K is read in its own [keys, dim] layout and transposed in shared memory: the tensor
        # cores take a transposed operand for free
        k = _rows(k_src, kv_head, start_n, seq, sks, cols, HEAD_DIM, DIAGONAL, TMA)
        qk = tl.dot(q, tl.trans(k))
        if DIAGONAL:
            qk = tl.where(offs_m[:, None] >= cols[None, :], qk, -float("inf"))
        m_new = tl.maximum(m_i, tl.max(qk, axis=1) * qk_scale)
        if LAZY_RESCALE:
            # move the reference max (and rescale acc and l_i) only when some row's max rose
            # by more than 2^8; until then p, taken against the older max, stays under 256
            if tl.max(m_new - m_i, axis=0) > 8.0:
                alpha = tl.math.exp2(m_i - m_new)
                acc = acc * alpha[:, None]
                l_i = l_i * alpha
                m_i = m_new
            p = tl.math.exp2(qk * qk_scale - m_i[:, None])  # scale and shift in one FMA
            l_i += tl.sum(p, axis=1)
        else:
            p = tl.math.exp2(qk * qk_scale - m_new[:, None])
            alpha = tl.math.exp2(m_i - m_new)
            l_i = l_i * alpha + tl.sum(p, axis=1)
            acc = acc * alpha[:, None]
            m_i = m_new
        v = _rows(v_src, kv_head, start_n, seq, svs, cols, HEAD_DIM, DIAGONAL, TMA)
        acc = tl.dot(p.to(v.dtype), v, acc)
    return acc, l_i, m_i


@triton.jit
def causal_gqa_fwd(q_src, k_src, v_src, o_src, sm_scale, seq, q_heads, kv_heads, n_bh,
                   sqb, sqh, sqs, skb, skh, sks, svb, svh, svs, sob, soh, sos,
                   BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr,
                   TMA: tl.constexpr, HEADS_FIRST: tl.constexpr, LAZY_RESCALE: tl.constexpr,
                   PERSISTENT: tl.constexpr):
    if PERSISTENT:  # tile t: every head's longest rows before any head's shorter ones
        m_blocks = tl.cdiv(seq, BLOCK_M)
        for t in range(tl.program_id(0), m_blocks * n_bh, tl.num_programs(0)):
            _tile(q_src, k_src, v_src, o_src, sm_scale, seq, q_heads, kv_heads, sqb, sqh, sqs,
                  skb, skh, sks, svb, svh, svs, sob, soh, sos, m_blocks - 1 - t // n_bh,
                  t % n_bh, BLOCK_M, BLOCK_N, HEAD_DIM, TMA, LAZY_RESCALE)
    else:
        if HEADS_FIRST:  # every head's longest rows before any head's shorter ones
            bh = tl.program_id(0)
            start_m = tl.num_programs(1) - 1 - tl.program_id(1)
        else:  # longest rows first within each head
            start_m = tl.num_programs(0) - 1 - tl.program_id(0)
            bh = tl.program_id(1)
        _tile(q_src, k_src, v_src, o_src, sm_scale, seq, q_heads, kv_heads, sqb, sqh, sqs,
              skb, skh, sks, svb, svh, svs, sob, soh, sos, start_m, bh, BLOCK_M, BLOCK_N,
              HEAD_DIM, TMA, LAZY_RESCALE)


@triton.jit
def _tile(q_src, k_src, v_src, o_src, sm_scale, seq, q_heads, kv_heads,
          sqb, sqh, sqs, skb, skh, sks, svb, svh, svs, sob, soh, sos, start_m, bh,
          BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr,
          TMA: tl.constexpr, LAZY_RESCALE: tl.constexpr):
    # one program's work: the query block start_m of head bh (batch * q_heads + head)
    b = bh // q_heads
    h = bh % q_heads
    kv = h // (q_heads // kv_heads)
    kv_head = b * kv_heads + kv  # the heads' indices, for the TMA descriptors
    if not TMA:  # per-head base pointers
        q_src += b.to(tl.int64) * sqb + h.to(tl.int64) * sqh
        o_src += b.to(tl.int64) * sob + h.to(tl.int64) * soh
        k_src += b.to(tl.int64) * skb + kv.to(tl.int64) * skh
        v_src += b.to(tl.int64) * svb + kv.to(tl.int64) * svh
    offs_m = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
    q = _rows(q_src, bh, start_m * BLOCK_M, seq, sqs, offs_m, HEAD_DIM, True, TMA)
    m_i = tl.full((BLOCK_M,), -float("inf"), tl.float32)
    l_i = tl.zeros((BLOCK_M,), tl.float32)
    acc = tl.zeros((BLOCK_M, HEAD_DIM), tl.float32)
    qk_scale = sm_scale * 1.4426950408889634  # exp(x) = exp2(x * log2(e))
    diagonal = start_m * BLOCK_M  # keys before it are visible to every query of the block
    acc, l_i, m_i = _attend(acc, l_i, m_i, q, k_src, v_src, kv_head, sks, svs, offs_m, 0,
                            diagonal, seq, qk_scale, BLOCK_N, HEAD_DIM, False, TMA, LAZY_RESCALE)
    acc, l_i, m_i = _attend(acc, l_i, m_i, q, k_src, v_src, kv_head, sks, svs, offs_m, diagonal,
                            tl.minimum(diagonal + BLOCK_M, seq), seq, qk_scale, BLOCK_N,
                            HEAD_DIM, True, TMA, LAZY_RESCALE)
    # one reciprocal a row, not BLOCK_M x HEAD_DIM IEEE divisions (131 div.rn.f32 a thread)
    out = (acc * (1.0 / l_i)[:, None]).to(q.dtype)
    if TMA == 1:
        o_src.store([bh * seq + start_m * BLOCK_M, 0], out)
    elif TMA == 2:
        o_src.store([bh, start_m * BLOCK_M, 0], out.reshape(1, BLOCK_M, HEAD_DIM))
    else:
        tl.store(o_src + offs_m[:, None].to(tl.int64) * sos + tl.arange(0, HEAD_DIM)[None, :],
                 out, mask=offs_m[:, None] < seq)


class ModelNew(nn.Module):
    def forward(self, q, k, v):
        q, k, v = (t if t.stride(-1) == 1 else t.contiguous() for t in (q, k, v))
        batch, q_heads, seq, head_dim = q.shape
        out = torch.empty_like(q)
        config = config_for(q)
        block_m, block_n = config["BLOCK_M"], config["BLOCK_N"]
        grid = (triton.cdiv(seq, block_m), batch * q_heads)
        if config.get("PERSISTENT"):  # one program per SM (a few on the CPU's interpreter)
            programs = torch.cuda.get_device_properties(q.device).multi_processor_count \
                if q.is_cuda else 3
            grid = (min(programs, grid[0] * grid[1]),)
        elif config["HEADS_FIRST"]:  # launch order runs along x first
            grid = grid[::-1]
        strides = (*q.stride()[:3], *k.stride()[:3], *v.stride()[:3], *out.stride()[:3])
        # TMA needs a 16-byte aligned start and row pitch; tiles of the flattened rows must not
        # cross from one head into the next (a whole number of query blocks), per-head 3-D
        # descriptors stop at each head's end
        aligned = all(t.is_contiguous() and t.storage_offset() * t.element_size() % 16 == 0 and
                      head_dim * t.element_size() % 16 == 0 for t in (q, k, v))
        tma = 0 if not aligned else 1 if seq % block_m == 0 else 2 if config.get(
            "RAGGED_TMA", 1) else 0
        tiles = (block_m, block_n, block_n, block_m)
        if tma == 1:
            srcs = [TensorDescriptor.from_tensor(t.view(-1, head_dim), [rows, head_dim])
                    for t, rows in zip((q, k, v, out), tiles)]
        elif tma == 2:
            srcs = [TensorDescriptor.from_tensor(t.view(-1, seq, head_dim), [1, rows, head_dim])
                    for t, rows in zip((q, k, v, out), tiles)]
        else:
            srcs = [q, k, v, out]
        causal_gqa_fwd[grid](*srcs, 1.0 / math.sqrt(head_dim), seq, q_heads, k.shape[1],
                             batch * q_heads, *strides, BLOCK_M=block_m, BLOCK_N=block_n,
                             HEAD_DIM=head_dim, TMA=tma, HEADS_FIRST=config["HEADS_FIRST"],
                             LAZY_RESCALE=config["LAZY_RESCALE"],
                             PERSISTENT=config.get("PERSISTENT", 0),
                             num_warps=config["num_warps"], num_stages=config["num_stages"],
                             **({"maxnreg": config["MAXNREG"]} if config.get("MAXNREG") else {}))
        return out
'''


def render(config: dict, ops: set[str]) -> str:
    from kernels.shapes import rendered
    return rendered(SOURCE, config)
