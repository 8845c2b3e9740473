"""Causal attention forward (FlashAttention-2 style) with grouped-query heads: a program owns
BLOCK_M queries of one (batch, query head) and streams the keys and values of the head's KV
group through an online softmax, so the seq x seq scores never reach memory. Keys wholly
below the diagonal are processed without masks; only the diagonal blocks apply the causal
(and sequence-end) mask. Programs start with the longest rows (the last query blocks), which
evens out the tail of a causal launch.

Tunables: BLOCK_M (queries per program), BLOCK_N (keys per step; divides BLOCK_M), num_warps,
num_stages. The head dimension must be a power of two (it is one tile).
"""
FAMILY = "attention"
REQUIRES = [{"scaled_dot_product_attention", "causal"}]
PARAMS = {"BLOCK_M": [128, 64], "BLOCK_N": [64, 128], "num_warps": [8, 4],
          "num_stages": [3, 2, 4]}
DEFAULT = {"BLOCK_M": 128, "BLOCK_N": 64, "num_warps": 8, "num_stages": 3}
PREFERRED = [
    {"BLOCK_M": 64, "BLOCK_N": 64, "num_warps": 4, "num_stages": 3},
    {"BLOCK_M": 128, "BLOCK_N": 128, "num_warps": 8, "num_stages": 3},
    {"BLOCK_M": 128, "BLOCK_N": 64, "num_warps": 4, "num_stages": 3},
]


def valid(config: dict) -> bool:
    return config["BLOCK_M"] % config["BLOCK_N"] == 0


SOURCE = r'''
import math

import torch
import torch.nn as nn
import triton
import triton.language as tl

BLOCK_M, BLOCK_N = $BLOCK_M, $BLOCK_N
NUM_WARPS, NUM_STAGES = $num_warps, $num_stages


@triton.jit
def _attend(acc, l_i, m_i, q, k_base, v_base, sks, svs, offs_m, start, stop, seq, qk_scale,
            BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr, DIAGONAL: tl.constexpr):
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, HEAD_DIM)
    for start_n in range(start, stop, BLOCK_N):
        cols = start_n + offs_n
        # K is read in its own [keys, dim] layout and transposed in registers/shared memory:
        # the tensor cores take a transposed operand for free
        if DIAGONAL:
            k = tl.load(k_base + cols[:, None].to(tl.int64) * sks + offs_d[None, :],
                        mask=cols[:, None] < seq, other=0.0)
        else:
            k = tl.load(k_base + cols[:, None].to(tl.int64) * sks + offs_d[None, :])
        qk = tl.dot(q, tl.trans(k)) * qk_scale
        if DIAGONAL:
            qk = tl.where(offs_m[:, None] >= cols[None, :], qk, -float("inf"))
        m_new = tl.maximum(m_i, tl.max(qk, axis=1))
        p = tl.math.exp2(qk - m_new[:, None])
        alpha = tl.math.exp2(m_i - m_new)
        l_i = l_i * alpha + tl.sum(p, axis=1)
        if DIAGONAL:
            v = tl.load(v_base + cols[:, None].to(tl.int64) * svs + offs_d[None, :],
                        mask=cols[:, None] < seq, other=0.0)
        else:
            v = tl.load(v_base + cols[:, None].to(tl.int64) * svs + offs_d[None, :])
        acc = tl.dot(p.to(v.dtype), v, acc * alpha[:, None])
        m_i = m_new
    return acc, l_i, m_i


@triton.jit
def causal_gqa_fwd(q_ptr, k_ptr, v_ptr, o_ptr, sm_scale, seq, q_heads, group,
                   sqb, sqh, sqs, skb, skh, sks, svb, svh, svs, sob, soh, sos,
                   BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr):
    start_m = tl.num_programs(0) - 1 - tl.program_id(0)  # longest rows first
    bh = tl.program_id(1)
    b = bh // q_heads
    h = bh % q_heads
    kv = h // group
    q_base = q_ptr + b.to(tl.int64) * sqb + h.to(tl.int64) * sqh
    k_base = k_ptr + b.to(tl.int64) * skb + kv.to(tl.int64) * skh
    v_base = v_ptr + b.to(tl.int64) * svb + kv.to(tl.int64) * svh
    offs_m = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, HEAD_DIM)
    q = tl.load(q_base + offs_m[:, None].to(tl.int64) * sqs + offs_d[None, :],
                mask=offs_m[:, None] < seq, other=0.0)
    m_i = tl.full((BLOCK_M,), -float("inf"), tl.float32)
    l_i = tl.zeros((BLOCK_M,), tl.float32)
    acc = tl.zeros((BLOCK_M, HEAD_DIM), tl.float32)
    qk_scale = sm_scale * 1.4426950408889634  # exp(x) = exp2(x * log2(e))
    diagonal = start_m * BLOCK_M  # keys before it are visible to every query of the block
    acc, l_i, m_i = _attend(acc, l_i, m_i, q, k_base, v_base, sks, svs, offs_m, 0, diagonal,
                            seq, qk_scale, BLOCK_N, HEAD_DIM, False)
    acc, l_i, m_i = _attend(acc, l_i, m_i, q, k_base, v_base, sks, svs, offs_m, diagonal,
                            tl.minimum(diagonal + BLOCK_M, seq), seq, qk_scale, BLOCK_N,
                            HEAD_DIM, True)
    out = acc / l_i[:, None]
    o_base = o_ptr + b.to(tl.int64) * sob + h.to(tl.int64) * soh
    tl.store(o_base + offs_m[:, None].to(tl.int64) * sos + offs_d[None, :],
             out.to(o_ptr.dtype.element_ty), mask=offs_m[:, None] < seq)


class ModelNew(nn.Module):
    def forward(self, q, k, v):
        q, k, v = (t if t.stride(-1) == 1 else t.contiguous() for t in (q, k, v))
        batch, q_heads, seq, head_dim = q.shape
        out = torch.empty_like(q)
        grid = (triton.cdiv(seq, BLOCK_M), batch * q_heads)
        causal_gqa_fwd[grid](q, k, v, out, 1.0 / math.sqrt(head_dim), seq, q_heads,
                             q_heads // k.shape[1], *q.stride()[:3], *k.stride()[:3],
                             *v.stride()[:3], *out.stride()[:3], BLOCK_M=BLOCK_M,
                             BLOCK_N=BLOCK_N, HEAD_DIM=head_dim, num_warps=NUM_WARPS,
                             num_stages=NUM_STAGES)
        return out
'''


def render(config: dict, ops: set[str]) -> str:
    from string import Template
    return Template(SOURCE).substitute(config)
