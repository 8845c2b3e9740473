"""Top-2 mixture-of-experts routing: softmax over the experts, the two largest probabilities
renormalised, per-expert token counts, and the load-balance statistics (the Switch auxiliary
loss E * sum_i f_i * P_i and the standard deviation of the load fractions f_i).

A program routes BLOCKS blocks of TOKENS tokens in turn, each as a [TOKENS, experts] tile
(experts padded to a power of two, at most 1024); with several blocks, the next block's tile
loads while this one is routed. Softmax is monotonic, so the two experts are the two largest
logits (each a max, then the lowest column holding it) and their renormalised weights need only
exp(x2 - x1); the probabilities themselves are formed once, for the per-expert sums, with one
reciprocal a row. Loads are masked only where the tile is not whole (PADDED, RAGGED). The
program's histogram and probability sums, kept per token slot across its blocks and summed over
the slots at its end, go to global accumulators with one relaxed atomic add per expert; both
accumulators share one zeroed buffer (one fill launch). A one-program finishing kernel turns
them into counts and the two statistics.

On the H200, 262144 x 64: the kernel before these changes (probabilities divided per element,
argmax over them, two fills) at 0.104 ms, 17% of copy bandwidth (2026-12-02 and 03, in the
whole catalog's runs; its screen 0.070 ms); with the logits' top two, one reciprocal a row,
unmasked whole tiles and one fill (15730a1), 0.061 ms, 28%, searched alone (2026-12-03). The
routing pass then read about 1.2 TB/s with some 50 PTX instructions a logit (822 for a
thread's 16 in a program): its instructions, not memory, look like the limit. The prefetch and
the plain-max experts since: 0.056 ms, 31%, in run-8 (2026-12-03, the whole catalog), with
32 tokens, 4 warps and 4 blocks a program, the configuration best over every input set; the
same screen timed 64 tokens, 4 warps, 1 block at 0.046 ms on the default set, hence one
configuration per shape class since: 0.0456 ms alone on the card (38% of copy bandwidth;
benchmarks/measured/h200-kernel_library/moe-5610bcf.json), where a plain copy of the same
73 MB reaches 72% (benchmarks/copy_by_size.py).

Tunables: TOKENS (tokens per block), num_warps, BLOCKS (blocks per program); read per call
for the input's shape class (kernels/shapes: SHAPE_AWARE).
"""
FAMILY = "moe_routing"
SHAPE_AWARE = True
REQUIRES = [{"softmax", "topk"}]
PARAMS = {"TOKENS": [16, 32, 64, 128, 256], "num_warps": [2, 4, 8], "BLOCKS": [1, 2, 4, 8, 32]}
DEFAULT = {"TOKENS": 32, "num_warps": 4, "BLOCKS": 1}
# the H200's screen in run-8 (2026-12-03, code 91c9f66, default set, ms): 64 tokens / 4 warps /
# 1 block 0.0456, 32 / 4 / 8 0.0515, 16 / 2 / 4 0.0524, 32 / 4 / 4 0.0540, 32 / 4 / 1 0.0603,
# 16 / 2 / 2 0.0604, 32 / 4 / 2 0.0604; the 9 others 0.062-0.096. In that order, then the rest
PREFERRED = [dict(zip(PARAMS, point)) for point in (
    (64, 4, 1), (32, 4, 8), (16, 2, 4), (32, 4, 4), (16, 2, 2), (32, 4, 2), (32, 2, 1),
    (64, 8, 2), (128, 8, 1), (64, 8, 1), (32, 2, 2), (64, 4, 4), (64, 4, 2), (128, 4, 1),
    (16, 2, 1))]


def valid(config: dict) -> bool:
    return config["TOKENS"] // config["num_warps"] >= 8


SOURCE = r'''
import torch
import torch.nn as nn
import triton
import triton.language as tl

$CONFIG_TABLE

@triton.jit
def _logits(logits_ptr, rows, cols, stride, row_limit, n_experts, MASKED: tl.constexpr):
    # a [TOKENS, EXPERTS] tile as float32; masked (rows below row_limit, real experts) only
    # where the tile may not be whole, so a whole one loads in 16-byte vectors
    ptrs = logits_ptr + rows[:, None].to(tl.int64) * stride + cols[None, :]
    if MASKED:
        return tl.load(ptrs, mask=(rows[:, None] < row_limit) & (cols[None, :] < n_experts),
                       other=-float("inf")).to(tl.float32)
    else:
        return tl.load(ptrs).to(tl.float32)


@triton.jit
def route_top2(logits_ptr, weights_ptr, experts_ptr, hits_ptr, prob_sum_ptr, n_tokens,
               n_experts, stride, TOKENS: tl.constexpr, EXPERTS: tl.constexpr,
               BLOCKS: tl.constexpr, PADDED: tl.constexpr, RAGGED: tl.constexpr):
    cols = tl.arange(0, EXPERTS)
    live_col = cols < n_experts
    pair = tl.arange(0, 2)
    log2e = 1.4426950408889634
    # per-slot tallies over the program's blocks, summed over its tokens once at its end: a
    # sum over a tile's rows crosses warps (shared memory), one a block would cost as much
    # as the routing
    hits = tl.zeros((TOKENS, EXPERTS), tl.int32)
    prob_sum = tl.zeros((TOKENS, EXPERTS), tl.float32)
    first_row = tl.program_id(0) * BLOCKS * TOKENS
    x = _logits(logits_ptr, first_row + tl.arange(0, TOKENS), cols, stride, n_tokens,
                n_experts, PADDED or RAGGED)
    for block in range(BLOCKS):
        rows = first_row + block * TOKENS + tl.arange(0, TOKENS)
        live_row = rows < n_tokens
        if BLOCKS > 1:
            # the next block's loads go out before this block's arithmetic (none past the
            # program's last block), so a program always has a tile in flight
            x_next = _logits(logits_ptr, rows + TOKENS, cols, stride,
                             tl.where(block + 1 < BLOCKS, n_tokens, 0), n_experts, True)
        # softmax is monotonic: the two largest logits are the two largest probabilities,
        # and they need no division: p1 = 1 / sum, p2 = exp(x2 - x1) / sum, renormalised to
        # 1 / (1 + e2) and e2 / (1 + e2). Each expert is the lowest column holding its
        # maximum (ties to the lower expert, as argmax): a plain max, then a min over column
        # numbers, compiles to a fifth fewer instructions than a max carrying its index
        # (benchmarks/measured/cpu-sm90-offline: 649 against 822 PTX instructions)
        x1 = tl.max(x, axis=1)
        first = tl.min(tl.where(x == x1[:, None], cols[None, :], EXPERTS), axis=1)
        if RAGGED:  # a dead row is all -inf: keep its arithmetic finite, it is not stored
            x1 = tl.where(live_row, x1, 0.0)
        rest = tl.where(cols[None, :] == first[:, None], -float("inf"), x)
        x2 = tl.max(rest, axis=1)
        second = tl.min(tl.where(rest == x2[:, None], cols[None, :], EXPERTS), axis=1)
        e = tl.math.exp2((x - x1[:, None]) * log2e)
        inv_sum = 1.0 / tl.sum(e, axis=1)
        e2 = tl.math.exp2((x2 - x1) * log2e)
        w1 = 1.0 / (1.0 + e2)
        out = rows[:, None].to(tl.int64) * 2 + pair[None, :]
        w = tl.where(pair[None, :] == 0, w1[:, None], (e2 * w1)[:, None])
        idx = tl.where(pair[None, :] == 0, first[:, None], second[:, None])
        chosen = (cols[None, :] == first[:, None]) | (cols[None, :] == second[:, None])
        if RAGGED:
            tl.store(weights_ptr + out, w, mask=live_row[:, None])
            tl.store(experts_ptr + out, idx.to(tl.int64), mask=live_row[:, None])
            chosen = chosen & live_row[:, None]
            inv_sum = tl.where(live_row, inv_sum, 0.0)
        else:
            tl.store(weights_ptr + out, w)
            tl.store(experts_ptr + out, idx.to(tl.int64))
        hits += chosen.to(tl.int32)
        prob_sum += e * inv_sum[:, None]
        if BLOCKS > 1:
            x = x_next
    # relaxed: nothing in this kernel reads the accumulators (the finishing kernel runs after
    # it), so the adds need no acquire-release fence each
    tl.atomic_add(hits_ptr + cols, tl.sum(hits, axis=0), mask=live_col, sem="relaxed")
    tl.atomic_add(prob_sum_ptr + cols, tl.sum(prob_sum, axis=0), mask=live_col,
                  sem="relaxed")


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
        # both accumulators in one zeroed buffer (one fill launch, not two): int32 zeros
        # read as float32 are 0.0
        tallies = torch.zeros((2, n_experts), dtype=torch.int32, device=dev)
        hits, prob_sum = tallies[0], tallies[1].view(torch.float32)
        counts = torch.empty((n_experts,), dtype=torch.int64, device=dev)
        aux = torch.empty((), dtype=logits.dtype, device=dev)
        std = torch.empty((), dtype=logits.dtype, device=dev)
        config = config_for(logits)
        tokens = config["TOKENS"]
        # no more blocks a program than the tokens fill (a small batch keeps its programs)
        blocks = min(config["BLOCKS"], triton.next_power_of_2(triton.cdiv(n_tokens, tokens)))
        route_top2[(triton.cdiv(n_tokens, tokens * blocks),)](
            logits, weights, experts, hits, prob_sum, n_tokens, n_experts, logits.stride(0),
            TOKENS=tokens, EXPERTS=experts_block, BLOCKS=blocks,
            PADDED=experts_block != n_experts, RAGGED=n_tokens % (tokens * blocks) != 0,
            num_warps=config["num_warps"])
        balance_stats[(1,)](hits, prob_sum, counts, aux, std, n_tokens, n_experts,
                            EXPERTS=experts_block, num_warps=1)
        return weights, experts, counts, aux, std
'''


def render(config: dict, ops: set[str]) -> str:
    from kernels.shapes import rendered
    return rendered(SOURCE, config)
