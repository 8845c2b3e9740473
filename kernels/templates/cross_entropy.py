"""Cross-entropy over a large vocabulary without materialising the softmax: one program per
token streams its row of logits once (online max and sum of exponentials) and reads its
target's logit; loss = logsumexp - logit[target]. A second one-program kernel averages the
per-token losses (4 bytes a token, a negligible pass) in a fixed order: the result does not
depend on scheduling, as atomics would make it.

Tunables: BLOCK (vocabulary columns per step), num_warps; read per call for the logits'
shape class (kernels/shapes: SHAPE_AWARE).
"""
FAMILY = "cross_entropy"
SHAPE_AWARE = True
REQUIRES = [{"cross_entropy"}]
PARAMS = {"BLOCK": [2048, 4096, 8192], "num_warps": [4, 8, 16]}
DEFAULT = {"BLOCK": 4096, "num_warps": 8}


def valid(config: dict) -> bool:
    return config["BLOCK"] // (32 * config["num_warps"]) >= 4


SOURCE = r'''
import torch
import torch.nn as nn
import triton
import triton.language as tl

$CONFIG_TABLE
@triton.jit
def token_loss(loss_ptr, logits_ptr, target_ptr, stride, vocab, BLOCK: tl.constexpr):
    token = tl.program_id(0).to(tl.int64)
    row = logits_ptr + token * stride
    m = tl.full((BLOCK,), -float("inf"), tl.float32)
    acc = tl.zeros((BLOCK,), tl.float32)
    for start in range(0, vocab, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        x = tl.load(row + cols, mask=cols < vocab, other=-float("inf")).to(tl.float32)
        m_new = tl.maximum(m, x)
        acc = acc * tl.exp(tl.where(m_new == -float("inf"), 0.0, m - m_new)) + \
            tl.where(x == -float("inf"), 0.0, tl.exp(x - m_new))
        m = m_new
    row_max = tl.max(m, axis=0)
    total = tl.sum(acc * tl.exp(tl.where(m == -float("inf"), -float("inf"), m - row_max)), axis=0)
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
                              num_warps=max(1, min(config["num_warps"], block // 128)))
        mean = torch.empty((), dtype=logits.dtype, device=logits.device)
        mean_of[(1,)](mean, losses, tokens, BLOCK=1024, num_warps=4)
        return mean
'''


def render(config: dict, ops: set[str]) -> str:
    from string import Template

    from kernels.shapes import table_source
    return Template(SOURCE).substitute(CONFIG_TABLE=table_source(config))
