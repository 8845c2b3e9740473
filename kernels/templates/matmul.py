"""Linear layer F.linear(x, weight, bias) (weight and bias given as inputs) with a fused
activation epilogue, accumulating in float32: the bias, the activation and the cast happen on
the accumulator tile before its only store, so the pre-activation never goes to memory.
Program order is grouped (GROUP_M row tiles share the column tiles they read) so neighbouring
programs hit the same W tiles in L2.

Operands with 16-byte-aligned rows are read by TMA (tensor descriptors), optionally by a
persistent grid of one program per SM; others by pointer loads, where rows and columns past the
edge wrap around (% M, % N) instead of being masked (their loads stay in bounds, their results
are not stored) and the K loop is masked only when K is not a multiple of BLOCK_K.

Tunables: BLOCK_M, BLOCK_N, BLOCK_K, GROUP_M, num_warps, num_stages (software pipelining depth;
shared memory holds num_stages tiles of x and W), PERSISTENT; read per call for x's shape class
(kernels/shapes: SHAPE_AWARE), so a small problem can take small tiles.
"""
FAMILY = "matmul"
SHAPE_AWARE = True
REQUIRES = [{"linear"}]
PARAMS = {"BLOCK_M": [128, 64, 32], "BLOCK_N": [256, 128, 32], "BLOCK_K": [64, 32, 128],
          "GROUP_M": [8], "num_warps": [4, 8], "num_stages": [4, 3, 5], "PERSISTENT": [1, 0]}
DEFAULT = {"BLOCK_M": 128, "BLOCK_N": 256, "BLOCK_K": 64, "GROUP_M": 8, "num_warps": 8,
           "num_stages": 3, "PERSISTENT": 1}  # 1.42-1.49 ms at 8192^3 on an H100


def _point(m, n, k, warps, stages, persistent):
    return {"BLOCK_M": m, "BLOCK_N": n, "BLOCK_K": k, "GROUP_M": 8, "num_warps": warps,
            "num_stages": stages, "PERSISTENT": persistent}


PREFERRED = [  # the corners that win on Hopper-class cards for large bf16 problems
    _point(128, 128, 64, 4, 4, 1), _point(128, 256, 64, 8, 3, 0), _point(128, 128, 64, 4, 4, 0),
    _point(128, 128, 64, 4, 3, 1), _point(128, 128, 64, 8, 4, 1), _point(128, 128, 128, 8, 3, 1),
    # 64-row tiles for a few hundred to a few thousand rows: 1000 x 4096 @ 4096 x 11008 makes
    # 344 tiles of 128 x 256 on 132 SMs (2.6 waves, the last 60% full), 0.95x compile on the
    # H200; 64 x 128 makes 1376 (10.4 waves)
    _point(64, 256, 64, 4, 4, 1), _point(64, 128, 64, 4, 4, 1), _point(64, 256, 64, 4, 3, 0),
    # 32 x 32 tiles for a handful of rows and columns (24 x 96 @ 96 x 80, 20 x 37 @ 37 x 24):
    # run-10 on the H200 gave them the 128-row tiles at 0.0106 and 0.0209 ms, where
    # torch.compile's own Triton took 0.0072 and 0.0083 and its seeds 0.0059 and 0.0055
    _point(32, 32, 64, 4, 3, 0),
]
SMEM_BYTES = 227 * 1024  # per block on Hopper; bf16 tiles of x and W per stage
ACTIVATIONS = {"gelu_tanh": 1, "gelu": 2, "silu": 3, "relu": 4}  # first match wins (problem_ops)


def valid(config: dict) -> bool:
    # shared memory: num_stages tiles of x and W, and the output tile the TMA store sends from
    tiles = (config["BLOCK_M"] + config["BLOCK_N"]) * config["BLOCK_K"] * 2
    out_tile = config["BLOCK_M"] * config["BLOCK_N"] * 2
    return tiles * config["num_stages"] + out_tile <= SMEM_BYTES and \
        config["BLOCK_M"] * config["BLOCK_N"] // (32 * config["num_warps"]) <= 128  # acc regs


SOURCE = r'''
import torch
import torch.nn as nn
import triton
import triton.language as tl
from triton.tools.tensor_descriptor import TensorDescriptor

$CONFIG_TABLE
ACT = $ACT  # 0 none, 1 GELU (tanh), 2 GELU (erf), 3 SiLU, 4 ReLU


@triton.jit
def _tile(pid, M, N, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, GROUP_M: tl.constexpr):
    # grouped order: GROUP_M row tiles share the column tiles they read, which stay in L2
    tiles_n = tl.cdiv(N, BLOCK_N)
    per_group = GROUP_M * tiles_n
    first_m = (pid // per_group) * GROUP_M
    group_rows = min(tl.cdiv(M, BLOCK_M) - first_m, GROUP_M)
    return first_m + (pid % per_group) % group_rows, (pid % per_group) // group_rows


@triton.jit
def _epilogue(acc, b_ptr, rn, N, ACT: tl.constexpr):
    acc += tl.load(b_ptr + rn, mask=rn < N, other=0.0).to(tl.float32)[None, :]
    if ACT == 1:
        inner = 0.7978845608028654 * (acc + 0.044715 * acc * acc * acc)
        acc = 0.5 * acc * (1.0 + (2.0 / (1.0 + tl.exp(-2.0 * inner)) - 1.0))  # tanh
    elif ACT == 2:
        acc = 0.5 * acc * (1.0 + tl.erf(acc * 0.7071067811865476))
    elif ACT == 3:
        acc = acc / (1.0 + tl.exp(-acc))
    elif ACT == 4:
        acc = tl.maximum(acc, 0.0)
    return acc


@triton.jit
def linear_act_tma(x_desc, w_desc, b_ptr, y_desc, M, N, K, BLOCK_M: tl.constexpr,
                   BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr,
                   ACT: tl.constexpr, PROGRAMS: tl.constexpr):
    # tensor-memory-accelerator loads: the hardware fills tiles past the edges with zeros and
    # clips the store, so no address or mask tensors take registers from the accumulator.
    # PROGRAMS programs walk the tiles in a flattened loop, so the next tile's loads are in
    # flight during this tile's epilogue (persistent; PROGRAMS = tiles: one tile each).
    # PROGRAMS is a constexpr because the verifier needs the loop's step as a constant.
    tiles = tl.cdiv(M, BLOCK_M) * tl.cdiv(N, BLOCK_N)
    k_steps = tl.cdiv(K, BLOCK_K)
    for tile in tl.range(tl.program_id(0), tiles, PROGRAMS, flatten=True):
        pid_m, pid_n = _tile(tile, M, N, BLOCK_M, BLOCK_N, GROUP_M)
        off_m = pid_m * BLOCK_M
        off_n = pid_n * BLOCK_N
        acc = tl.zeros((BLOCK_M, BLOCK_N), tl.float32)
        for k in range(k_steps):
            a = x_desc.load([off_m, k * BLOCK_K])
            b = w_desc.load([off_n, k * BLOCK_K])
            acc = tl.dot(a, b.T, acc)
        acc = _epilogue(acc, b_ptr, off_n + tl.arange(0, BLOCK_N), N, ACT)
        y_desc.store([off_m, off_n], acc.to(y_desc.dtype))


@triton.jit
def linear_act(x_ptr, w_ptr, b_ptr, y_ptr, M, N, K, sxm, sxk, swn, swk, sym, syn,
               BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
               GROUP_M: tl.constexpr, ACT: tl.constexpr, EVEN_K: tl.constexpr):
    # pointer loads, for operands whose rows are not 16-byte aligned (TMA cannot read them)
    pid_m, pid_n = _tile(tl.program_id(0), M, N, BLOCK_M, BLOCK_N, GROUP_M)
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
    om = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    on = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    acc = _epilogue(acc, b_ptr, on, N, ACT)
    tl.store(y_ptr + om[:, None].to(tl.int64) * sym + on[None, :] * syn,
             acc.to(y_ptr.dtype.element_ty), mask=(om[:, None] < M) & (on[None, :] < N))


def _tma_ready(*tensors):
    # TMA: unit inner stride, 16-byte aligned start and row pitch (allocations themselves are)
    return all(t.stride(-1) == 1 and t.storage_offset() * t.element_size() % 16 == 0 and
               t.stride(0) * t.element_size() % 16 == 0 for t in tensors)


class ModelNew(nn.Module):
    def forward(self, x, weight, bias):
        x2 = x.reshape(-1, x.shape[-1])
        M, K = x2.shape
        N = weight.shape[0]
        y = torch.empty((M, N), dtype=x.dtype, device=x.device)
        config = config_for(x)
        bm, bn, bk = config["BLOCK_M"], config["BLOCK_N"], config["BLOCK_K"]
        tiles = triton.cdiv(M, bm) * triton.cdiv(N, bn)
        grid = (tiles,)
        meta = dict(BLOCK_M=bm, BLOCK_N=bn, BLOCK_K=bk, GROUP_M=config["GROUP_M"], ACT=ACT,
                    num_warps=config["num_warps"], num_stages=config["num_stages"])
        if _tma_ready(x2, weight, y):
            if config["PERSISTENT"]:  # one program per SM (the interpreter: four)
                sms = torch.cuda.get_device_properties(x.device).multi_processor_count \
                    if x.is_cuda else 4
                grid = (min(tiles, sms),)
            linear_act_tma[grid](TensorDescriptor.from_tensor(x2, [bm, bk]),
                                 TensorDescriptor.from_tensor(weight, [bn, bk]), bias,
                                 TensorDescriptor.from_tensor(y, [bm, bn]), M, N, K,
                                 PROGRAMS=grid[0], **meta)
        else:
            linear_act[grid](x2, weight, bias, y, M, N, K, x2.stride(0), x2.stride(1),
                             weight.stride(0), weight.stride(1), y.stride(0), y.stride(1),
                             EVEN_K=K % bk == 0, **meta)
        return y.reshape(*x.shape[:-1], N)
'''


def render(config: dict, ops: set[str]) -> str:
    from kernels.shapes import rendered
    act = next((code for name, code in ACTIVATIONS.items() if name in ops), 0)
    return rendered(SOURCE, config, ACT=act)
