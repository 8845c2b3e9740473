"""Linear layer F.linear(x, weight, bias) (weight and bias given as inputs) with a fused
activation epilogue, accumulating in float32: the bias, the activation and the cast happen on
the accumulator tile before its only store, so the pre-activation never goes to memory.
Program order is grouped (GROUP_M row tiles share the column tiles they read) so neighbouring
programs hit the same W tiles in L2.

Rows and columns past the edge wrap around (% M, % N) instead of being masked: their loads stay
in bounds and their results are not stored. The K loop is masked only when K is not a
multiple of BLOCK_K.

Tunables: BLOCK_M, BLOCK_N, BLOCK_K, GROUP_M, num_warps, num_stages (software pipelining depth;
shared memory holds num_stages tiles of x and W).
"""
FAMILY = "matmul"
REQUIRES = [{"linear"}]
PARAMS = {"BLOCK_M": [128, 64], "BLOCK_N": [256, 128], "BLOCK_K": [64, 32], "GROUP_M": [8],
          "num_warps": [8, 4], "num_stages": [3, 4]}
DEFAULT = {"BLOCK_M": 128, "BLOCK_N": 256, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 8,
           "num_stages": 3}
PREFERRED = [  # the corners that win on Hopper-class cards for large bf16 problems
    {"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 4,
     "num_stages": 4},
    {"BLOCK_M": 128, "BLOCK_N": 256, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 8,
     "num_stages": 4},
    {"BLOCK_M": 128, "BLOCK_N": 128, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 8,
     "num_stages": 3},
]
SMEM_BYTES = 227 * 1024  # per block on Hopper; bf16 tiles of x and W per stage
ACTIVATIONS = {"gelu_tanh": 1, "gelu": 2, "silu": 3, "relu": 4}  # first match wins (problem_ops)


def valid(config: dict) -> bool:
    tiles = (config["BLOCK_M"] + config["BLOCK_N"]) * config["BLOCK_K"] * 2
    return tiles * config["num_stages"] <= SMEM_BYTES and \
        config["BLOCK_M"] * config["BLOCK_N"] // (32 * config["num_warps"]) <= 256


SOURCE = r'''
import torch
import torch.nn as nn
import triton
import triton.language as tl

BLOCK_M, BLOCK_N, BLOCK_K, GROUP_M = $BLOCK_M, $BLOCK_N, $BLOCK_K, $GROUP_M
NUM_WARPS, NUM_STAGES = $num_warps, $num_stages
ACT = $ACT  # 0 none, 1 GELU (tanh), 2 GELU (erf), 3 SiLU, 4 ReLU


@triton.jit
def linear_act(x_ptr, w_ptr, b_ptr, y_ptr, M, N, K, sxm, sxk, swn, swk, sym, syn,
               BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
               GROUP_M: tl.constexpr, ACT: tl.constexpr, EVEN_K: tl.constexpr):
    pid = tl.program_id(0)
    tiles_m = tl.cdiv(M, BLOCK_M)
    tiles_n = tl.cdiv(N, BLOCK_N)
    per_group = GROUP_M * tiles_n
    first_m = (pid // per_group) * GROUP_M
    group_rows = min(tiles_m - first_m, GROUP_M)
    pid_m = first_m + (pid % per_group) % group_rows
    pid_n = (pid % per_group) // group_rows
    rm = (pid_m * BLOCK_M + tl.arange(0, BLOCK_M)) % M
    rn = (pid_n * BLOCK_N + tl.arange(0, BLOCK_N)) % N
    rk = tl.arange(0, BLOCK_K)
    x_tile = x_ptr + rm[:, None].to(tl.int64) * sxm + rk[None, :] * sxk
    w_tile = w_ptr + rk[:, None] * swk + rn[None, :].to(tl.int64) * swn
    acc = tl.zeros((BLOCK_M, BLOCK_N), tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_K)):
        if EVEN_K:
            a = tl.load(x_tile)
            b = tl.load(w_tile)
        else:
            a = tl.load(x_tile, mask=rk[None, :] < K - k * BLOCK_K, other=0.0)
            b = tl.load(w_tile, mask=rk[:, None] < K - k * BLOCK_K, other=0.0)
        acc = tl.dot(a, b, acc)
        x_tile += BLOCK_K * sxk
        w_tile += BLOCK_K * swk
    acc += tl.load(b_ptr + rn).to(tl.float32)[None, :]
    if ACT == 1:
        inner = 0.7978845608028654 * (acc + 0.044715 * acc * acc * acc)
        acc = 0.5 * acc * (1.0 + (2.0 / (1.0 + tl.exp(-2.0 * inner)) - 1.0))  # tanh
    elif ACT == 2:
        acc = 0.5 * acc * (1.0 + tl.erf(acc * 0.7071067811865476))
    elif ACT == 3:
        acc = acc / (1.0 + tl.exp(-acc))
    elif ACT == 4:
        acc = tl.maximum(acc, 0.0)
    om = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    on = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    tl.store(y_ptr + om[:, None].to(tl.int64) * sym + on[None, :] * syn,
             acc.to(y_ptr.dtype.element_ty), mask=(om[:, None] < M) & (on[None, :] < N))


class ModelNew(nn.Module):
    def forward(self, x, weight, bias):
        x2 = x.reshape(-1, x.shape[-1])
        M, K = x2.shape
        N = weight.shape[0]
        y = torch.empty((M, N), dtype=x.dtype, device=x.device)
        grid = (triton.cdiv(M, BLOCK_M) * triton.cdiv(N, BLOCK_N),)
        linear_act[grid](x2, weight, bias, y, M, N, K, x2.stride(0), x2.stride(1),
                         weight.stride(0), weight.stride(1), y.stride(0), y.stride(1),
                         BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, BLOCK_K=BLOCK_K, GROUP_M=GROUP_M,
                         ACT=ACT, EVEN_K=K % BLOCK_K == 0, num_warps=NUM_WARPS,
                         num_stages=NUM_STAGES)
        return y.reshape(*x.shape[:-1], N)
'''


def render(config: dict, ops: set[str]) -> str:
    from string import Template
    act = next((code for name, code in ACTIVATIONS.items() if name in ops), 0)
    return Template(SOURCE).substitute(config, ACT=act)
