"""Top-2 mixture-of-experts routing: softmax over the experts, the two largest probabilities
renormalised, per-expert token counts, and the load-balance statistics (the Switch auxiliary
loss E * sum_i f_i * P_i and the standard deviation of the load fractions f_i).

A program routes BLOCKS blocks of TOKENS tokens in turn, each as a [TOKENS, experts] tile
(experts padded to a power of two, at most 1024): two passes of max/argmax pick the experts,
and the program's histogram and probability sums, kept per token slot across its blocks and
summed over the slots at its end, go to global accumulators with one atomic add per expert.
Those accumulators are a few cache lines that every program adds to: on the H200 one block a
program (8192 programs at 32 tokens) ran at 16% of copy bandwidth, so several blocks a
program cut the adds that queue there. A one-program finishing kernel turns the accumulators into counts and the two
statistics.

Tunables: TOKENS (tokens per block), num_warps, BLOCKS (blocks per program).
"""
FAMILY = "moe_routing"
REQUIRES = [{"softmax", "topk"}]
PARAMS = {"TOKENS": [32, 64, 128, 256], "num_warps": [2, 4, 8], "BLOCKS": [1, 8, 32]}
DEFAULT = {"TOKENS": 64, "num_warps": 4, "BLOCKS": 1}
# the H200's winner at one block a program (2026-12-02: 32 tokens, 4 warps), then it and its
# neighbours with 8 and 32 blocks a program, before the rest of the grid
PREFERRED = [dict(zip(PARAMS, point)) for point in (
    (32, 4, 1), (32, 4, 8), (32, 4, 32), (64, 4, 8), (64, 4, 32), (32, 2, 8), (32, 2, 32),
    (64, 8, 8), (128, 4, 8))]


def valid(config: dict) -> bool:
    return config["TOKENS"] // config["num_warps"] >= 8


SOURCE = r'''
import torch
import torch.nn as nn
import triton
import triton.language as tl

TOKENS = $TOKENS
NUM_WARPS = $num_warps
BLOCKS = $BLOCKS


@triton.jit
def route_top2(logits_ptr, weights_ptr, experts_ptr, hits_ptr, prob_sum_ptr, n_tokens,
               n_experts, stride, TOKENS: tl.constexpr, EXPERTS: tl.constexpr,
               BLOCKS: tl.constexpr):
    cols = tl.arange(0, EXPERTS)
    live_col = cols < n_experts
    pair = tl.arange(0, 2)
    # per-slot tallies over the program's blocks, summed over its tokens once at its end: a
    # sum over a tile's rows crosses warps (shared memory), one a block would cost as much
    # as the routing
    hits = tl.zeros((TOKENS, EXPERTS), tl.int32)
    prob_sum = tl.zeros((TOKENS, EXPERTS), tl.float32)
    for block in range(BLOCKS):
        rows = (tl.program_id(0) * BLOCKS + block) * TOKENS + tl.arange(0, TOKENS)
        live_row = rows < n_tokens
        x = tl.load(logits_ptr + rows[:, None].to(tl.int64) * stride + cols[None, :],
                    mask=live_row[:, None] & live_col[None, :], other=0.0).to(tl.float32)
        x = tl.where(live_col[None, :], x, -float("inf"))
        e = tl.exp(x - tl.max(x, axis=1)[:, None])
        probs = e / tl.sum(e, axis=1)[:, None]
        first = tl.argmax(probs, axis=1)
        p1 = tl.max(probs, axis=1)
        rest = tl.where(cols[None, :] == first[:, None], -1.0, probs)
        second = tl.argmax(rest, axis=1)
        p2 = tl.max(rest, axis=1)
        out = rows[:, None].to(tl.int64) * 2 + pair[None, :]
        w = tl.where(pair[None, :] == 0, p1[:, None], p2[:, None]) / (p1 + p2)[:, None]
        idx = tl.where(pair[None, :] == 0, first[:, None], second[:, None])
        tl.store(weights_ptr + out, w, mask=live_row[:, None])
        tl.store(experts_ptr + out, idx.to(tl.int64), mask=live_row[:, None])
        chosen = (cols[None, :] == first[:, None]) | (cols[None, :] == second[:, None])
        hits += (chosen & live_row[:, None]).to(tl.int32)
        prob_sum += tl.where(live_row[:, None], probs, 0.0)
    tl.atomic_add(hits_ptr + cols, tl.sum(hits, axis=0), mask=live_col)
    tl.atomic_add(prob_sum_ptr + cols, tl.sum(prob_sum, axis=0), mask=live_col)


@triton.jit
def balance_stats(hits_ptr, prob_sum_ptr, counts_ptr, aux_ptr, std_ptr, n_tokens, n_experts,
                  EXPERTS: tl.constexpr):
    cols = tl.arange(0, EXPERTS)
    live = cols < n_experts
    hits = tl.load(hits_ptr + cols, mask=live, other=0)
    tl.store(counts_ptr + cols, hits.to(tl.int64), mask=live)
    load = hits.to(tl.float32) / (2 * n_tokens)
    mean_prob = tl.load(prob_sum_ptr + cols, mask=live, other=0.0) / n_tokens
    tl.store(aux_ptr, n_experts * tl.sum(load * mean_prob, axis=0))
    centred = tl.where(live, load - tl.sum(load, axis=0) / n_experts, 0.0)
    tl.store(std_ptr, tl.sqrt(tl.sum(centred * centred, axis=0) / (n_experts - 1)))


class ModelNew(nn.Module):
    def forward(self, logits):
        if logits.stride(-1) != 1:
            logits = logits.contiguous()
        n_tokens, n_experts = logits.shape
        experts_block = triton.next_power_of_2(n_experts)
        dev = logits.device
        weights = torch.empty((n_tokens, 2), dtype=logits.dtype, device=dev)
        experts = torch.empty((n_tokens, 2), dtype=torch.int64, device=dev)
        hits = torch.zeros((n_experts,), dtype=torch.int32, device=dev)
        prob_sum = torch.zeros((n_experts,), dtype=torch.float32, device=dev)
        counts = torch.empty((n_experts,), dtype=torch.int64, device=dev)
        aux = torch.empty((), dtype=logits.dtype, device=dev)
        std = torch.empty((), dtype=logits.dtype, device=dev)
        # no more blocks a program than the tokens fill (a small batch keeps its programs)
        blocks = min(BLOCKS, triton.next_power_of_2(triton.cdiv(n_tokens, TOKENS)))
        route_top2[(triton.cdiv(n_tokens, TOKENS * blocks),)](
            logits, weights, experts, hits, prob_sum, n_tokens, n_experts, logits.stride(0),
            TOKENS=TOKENS, EXPERTS=experts_block, BLOCKS=blocks, num_warps=NUM_WARPS)
        balance_stats[(1,)](hits, prob_sum, counts, aux, std, n_tokens, n_experts,
                            EXPERTS=experts_block, num_warps=1)
        return weights, experts, counts, aux, std
'''


def render(config: dict, ops: set[str]) -> str:
    from string import Template
    return Template(SOURCE).substitute(config)
