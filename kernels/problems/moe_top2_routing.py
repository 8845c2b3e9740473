"""Switch/Mixtral-style top-2 MoE routing (plan-algorithm-gaps.md, S-1): softmax over the
experts, the two largest probabilities per token renormalised to sum to 1, per-expert token
counts and the load-balance statistics: the auxiliary loss E * sum_i f_i * P_i (f_i: fraction
of routed slots sent to expert i, P_i: mean router probability of expert i) and the standard
deviation of the per-expert load fraction (the S-1 criterion asks <= 3%).

forward returns (weights [T, 2], experts int64 [T, 2], counts int64 [E], aux_loss, load_std).
"""
import torch
import torch.nn as nn

DTYPE = torch.float32
ATOL, RTOL = 1e-5, 1e-4


class Model(nn.Module):
    def forward(self, logits):
        n_experts = logits.shape[-1]
        probs = torch.softmax(logits, dim=-1)
        weights, experts = torch.topk(probs, 2, dim=-1)
        weights = weights / weights.sum(dim=-1, keepdim=True)
        counts = torch.bincount(experts.reshape(-1), minlength=n_experts)
        load = counts.to(probs.dtype) / experts.numel()
        aux_loss = n_experts * (load * probs.mean(dim=0)).sum()
        return weights, experts, counts, aux_loss, load.std()


def get_inputs(tokens=262144, experts=64):
    return [torch.randn(tokens, experts)]


def get_init_inputs():
    return []


SHAPES = [(150000, 8), (1000, 60), (37, 6)]  # none a power of two; the last two CPU-sized
