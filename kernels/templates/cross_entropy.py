"""Cross-entropy over a large vocabulary without materialising the softmax: one program per
token streams its row of logits once (online max and sum of exponentials) and reads its
target's logit; loss = logsumexp - logit[target]. A second one-program kernel averages the
per-token losses (4 bytes a token, a negligible pass) in a fixed order: the result does not
depend on scheduling, as atomics would make it.

SCALAR_MAX keeps one running maximum for the row (a block's max reduced across the warps at
each step, one exponential an element) instead of one per lane (no cross-warp step, but two
exponentials an element: the lane's rescale and the element's): which is faster depends on
whether a step is bound by the special-function units or by the reduction's synchronisation.

Tunables: BLOCK (vocabulary columns per step), num_warps, SCALAR_MAX; read per call for the
logits' shape class (kernels/shapes: SHAPE_AWARE).
"""
FAMILY = "cross_entropy"
SHAPE_AWARE = True
REQUIRES = [{"cross_entropy"}]
PARAMS = {"BLOCK": [2048, 4096, 8192], "num_warps": [4, 8, 16], "SCALAR_MAX": [0, 1]}
DEFAULT = {"BLOCK": 4096, "num_warps": 8, "SCALAR_MAX": 0}
# the H200's winners per shape class at budget 16 (2026-12-02, per-lane maxima), then the same
# tiles with one running maximum, before the rest of the grid (18 points)
PREFERRED = [{"BLOCK": b, "num_warps": w, "SCALAR_MAX": s} for s in (0, 1)
             for b, w in ((2048, 8), (2048, 4), (4096, 4))]


def valid(config: dict) -> bool:
    return config["BLOCK"] // (32 * config["num_warps"]) >= 4


SOURCE = r'''
import torch
import torch.nn as nn
import triton
import triton.language as tl

$CONFIG_TABLE
@triton.jit
def token_loss(loss_ptr, logits_ptr, target_ptr, stride, vocab, BLOCK: tl.constexpr,
               SCALAR_MAX: tl.constexpr):
    token = tl.program_id(0).to(tl.int64)
    row = logits_ptr + token * stride
    acc = tl.zeros((BLOCK,), tl.float32)
    if SCALAR_MAX:
        row_max = -float("inf")
        for start in range(0, vocab, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            x = tl.load(row + cols, mask=cols < vocab, other=-float("inf")).to(tl.float32)
            m_new = tl.maximum(row_max, tl.max(x, axis=0))
            acc = acc * tl.exp(tl.where(m_new == -float("inf"), 0.0, row_max - m_new)) + \
                tl.where(x == -float("inf"), 0.0, tl.exp(x - m_new))
            row_max = m_new
        total = tl.sum(acc, axis=0)
    else:
        m = tl.full((BLOCK,), -float("inf"), tl.float32)
        for start in range(0, vocab, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            x = tl.load(row + cols, mask=cols < vocab, other=-float("inf")).to(tl.float32)
            m_new = tl.maximum(m, x)
            acc = acc * tl.exp(tl.where(m_new == -float("inf"), 0.0, m - m_new)) + \
                tl.where(x == -float("inf"), 0.0, tl.exp(x - m_new))
            m = m_new
        row_max = tl.max(m, axis=0)
        total = tl.sum(acc * tl.exp(tl.where(m == -float("inf"), -float("inf"), m - row_max)),
                       axis=0)
    target = tl.load(target_ptr + token)
    # an invalid target gives a NaN loss instead of a read outside the row
    picked = tl.load(row + target, mask=(target >= 0) & (target < vocab),
                     other=float("nan")).to(tl.float32)
    tl.store(loss_ptr + token, row_max + tl.log(total) - picked)


@triton.jit
def mean_of(out_ptr, in_ptr, n, BLOCK: tl.constexpr):
    acc = tl.zeros((BLOCK,), tl.float32)
    for start in range(0, n, BLOCK):
        idx = start + tl.arange(0, BLOCK)
        acc += tl.load(in_ptr + idx, mask=idx < n, other=0.0)
    tl.store(out_ptr, tl.sum(acc, axis=0) / n)


class ModelNew(nn.Module):
    def forward(self, logits, targets):
        if logits.stride(-1) != 1:
            logits = logits.contiguous()
        tokens, vocab = logits.shape
        losses = torch.empty(tokens, dtype=torch.float32, device=logits.device)
        config = config_for(logits)
        block = min(config["BLOCK"], triton.next_power_of_2(vocab))
        token_loss[(tokens,)](losses, logits, targets, logits.stride(0), vocab, BLOCK=block,
                              SCALAR_MAX=config.get("SCALAR_MAX", 0),
                              num_warps=max(1, min(config["num_warps"], block // 128)))
        mean = torch.empty((), dtype=logits.dtype, device=logits.device)
        mean_of[(1,)](mean, losses, tokens, BLOCK=1024, num_warps=4)
        return mean
'''


def render(config: dict, ops: set[str]) -> str:
    from kernels.shapes import rendered
    return rendered(SOURCE, config)
