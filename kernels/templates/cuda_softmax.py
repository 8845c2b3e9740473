"""CUDA C++: row softmax / log-softmax over the last dimension of a float32 tensor. One block
per row; each thread keeps a running (max, sum) over its columns (an online softmax: one read
for the statistics), warps combine theirs with shuffles and the block through shared memory,
then a second read writes the row. 128-bit loads when the row width and addresses allow. With
CACHE > 0 a row of at most THREADS * CACHE float4s is read once and kept in registers (max,
then sum of exponentials, then the write, from registers); longer rows take the two-read path.

Tunables: THREADS (per row's block), CACHE (float4s per thread held in registers; 0: none).
"""
FAMILY = "cuda_softmax"
LANGUAGE = "cuda"
REQUIRES = [{"softmax"}, {"log_softmax"}]
PARAMS = {"THREADS": [128, 256, 512, 1024], "CACHE": [0, 2, 4, 8]}
DEFAULT = {"THREADS": 256, "CACHE": 0}
# rows up to 8192 float32 held in registers, three ways (the default set is 8192 wide)
PREFERRED = [{"THREADS": 256, "CACHE": 8}, {"THREADS": 512, "CACHE": 4},
             {"THREADS": 1024, "CACHE": 2}]
DTYPES = {"float32"}


def valid(config: dict) -> bool:
    return True


CUDA = r'''
#include <torch/extension.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <cstdint>

constexpr int THREADS = $THREADS;
constexpr int WARPS = THREADS / 32;
constexpr int CACHE = $CACHE;
constexpr int SLOTS = CACHE > 0 ? CACHE : 1;  // no zero-length array when CACHE is 0
constexpr bool LOG = $LOG;

// the pair (m, s) stands for s * exp(m): merging two keeps the larger maximum
__device__ __forceinline__ void merge(float& m, float& s, float m2, float s2) {
    if (m2 == -INFINITY) return;
    if (m == -INFINITY) { m = m2; s = s2; return; }
    float big = fmaxf(m, m2);
    s = s * expf(m - big) + s2 * expf(m2 - big);
    m = big;
}

__device__ __forceinline__ void add(float& m, float& s, float x) { merge(m, s, x, 1.0f); }

// the output for four inputs of a row, from its maximum and sum of exponentials
__device__ __forceinline__ float4 finish4(float4 v, float row_max, float log_total,
                                          float inv_total) {
    if (LOG) {
        v.x = v.x - row_max - log_total; v.y = v.y - row_max - log_total;
        v.z = v.z - row_max - log_total; v.w = v.w - row_max - log_total;
    } else {
        v.x = expf(v.x - row_max) * inv_total; v.y = expf(v.y - row_max) * inv_total;
        v.z = expf(v.z - row_max) * inv_total; v.w = expf(v.w - row_max) * inv_total;
    }
    return v;
}

__global__ void softmax_rows(const float* __restrict__ in, float* __restrict__ out,
                             int64_t cols, bool vec) {
    __shared__ float shared_m[WARPS], shared_s[WARPS];
    const float* src = in + blockIdx.x * cols;
    float* dst = out + blockIdx.x * cols;
    float m = -INFINITY, s = 0.0f;
    if (vec) {
        const float4* src4 = reinterpret_cast<const float4*>(src);
        for (int64_t c = threadIdx.x; c < cols / 4; c += THREADS) {
            float4 v = src4[c];
            add(m, s, v.x); add(m, s, v.y); add(m, s, v.z); add(m, s, v.w);
        }
    } else {
        for (int64_t c = threadIdx.x; c < cols; c += THREADS) add(m, s, src[c]);
    }
    for (int offset = 16; offset > 0; offset /= 2) {
        float m2 = __shfl_down_sync(0xffffffff, m, offset);
        float s2 = __shfl_down_sync(0xffffffff, s, offset);
        merge(m, s, m2, s2);
    }
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) { shared_m[warp] = m; shared_s[warp] = s; }
    __syncthreads();
    if (warp == 0) {
        m = lane < WARPS ? shared_m[lane] : -INFINITY;
        s = lane < WARPS ? shared_s[lane] : 0.0f;
        for (int offset = 16; offset > 0; offset /= 2) {
            float m2 = __shfl_down_sync(0xffffffff, m, offset);
            float s2 = __shfl_down_sync(0xffffffff, s, offset);
            merge(m, s, m2, s2);
        }
        if (lane == 0) { shared_m[0] = m; shared_s[0] = s; }
    }
    __syncthreads();
    const float row_max = shared_m[0];
    const float total = shared_s[0];
    const float log_total = logf(total), inv_total = 1.0f / total;
    if (vec) {
        const float4* src4 = reinterpret_cast<const float4*>(src);
        float4* dst4 = reinterpret_cast<float4*>(dst);
        for (int64_t c = threadIdx.x; c < cols / 4; c += THREADS) {
            dst4[c] = finish4(src4[c], row_max, log_total, inv_total);
        }
    } else {
        for (int64_t c = threadIdx.x; c < cols; c += THREADS) {
            float x = src[c];
            dst[c] = LOG ? x - row_max - log_total : expf(x - row_max) * inv_total;
        }
    }
}

// every thread of the block gets the same result: each warp's value through shared memory,
// then all of them read in one order
__device__ __forceinline__ float block_max(float v, float* partial) {
    for (int offset = 16; offset > 0; offset /= 2)
        v = fmaxf(v, __shfl_xor_sync(0xffffffff, v, offset));
    if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
    __syncthreads();
    v = partial[0];
    for (int w = 1; w < WARPS; ++w) v = fmaxf(v, partial[w]);
    return v;
}

__device__ __forceinline__ float block_sum(float v, float* partial) {
    for (int offset = 16; offset > 0; offset /= 2)
        v += __shfl_xor_sync(0xffffffff, v, offset);
    if (threadIdx.x % 32 == 0) partial[threadIdx.x / 32] = v;
    __syncthreads();
    v = partial[0];
    for (int w = 1; w < WARPS; ++w) v += partial[w];
    return v;
}

__device__ __forceinline__ float max4(float4 v) {
    return fmaxf(fmaxf(v.x, v.y), fmaxf(v.z, v.w));
}

// a row of at most THREADS * CACHE float4s (16-byte aligned): one read, kept in registers
__global__ void softmax_rows_cached(const float* __restrict__ in, float* __restrict__ out,
                                    int64_t cols) {
    __shared__ float partial_max[WARPS], partial_sum[WARPS];
    const float4* src4 = reinterpret_cast<const float4*>(in + blockIdx.x * cols);
    float4* dst4 = reinterpret_cast<float4*>(out + blockIdx.x * cols);
    const int64_t n4 = cols / 4;
    const float4 none = make_float4(-INFINITY, -INFINITY, -INFINITY, -INFINITY);
    float4 v[SLOTS];
    float m = -INFINITY;
#pragma unroll
    for (int k = 0; k < SLOTS; ++k) {
        int64_t c = threadIdx.x + (int64_t)k * THREADS;
        v[k] = c < n4 ? src4[c] : none;
        m = fmaxf(m, max4(v[k]));
    }
    const float row_max = block_max(m, partial_max);
    float s = 0.0f;
#pragma unroll
    for (int k = 0; k < SLOTS; ++k)  // slots past the row hold -inf: exp gives 0
        s += expf(v[k].x - row_max) + expf(v[k].y - row_max) + expf(v[k].z - row_max) +
             expf(v[k].w - row_max);
    const float total = block_sum(s, partial_sum);
    const float log_total = logf(total), inv_total = 1.0f / total;
#pragma unroll
    for (int k = 0; k < SLOTS; ++k) {
        int64_t c = threadIdx.x + (int64_t)k * THREADS;
        if (c >= n4) break;
        dst4[c] = finish4(v[k], row_max, log_total, inv_total);
    }
}

// ---- host code (torch's API); everything above is device code ----
torch::Tensor softmax_last(torch::Tensor x) {
    TORCH_CHECK(x.is_cuda() && x.scalar_type() == torch::kFloat32 && x.is_contiguous(),
                "x must be a contiguous float32 CUDA tensor");
    auto out = torch::empty_like(x);
    int64_t cols = x.size(-1);
    int64_t rows = cols ? x.numel() / cols : 0;
    if (rows == 0) return out;
    bool vec = cols % 4 == 0 && reinterpret_cast<uintptr_t>(x.data_ptr<float>()) % 16 == 0 &&
               reinterpret_cast<uintptr_t>(out.data_ptr<float>()) % 16 == 0;
    if (CACHE > 0 && vec && cols / 4 <= (int64_t)THREADS * CACHE)
        softmax_rows_cached<<<rows, THREADS, 0, at::cuda::getCurrentCUDAStream()>>>(
            x.data_ptr<float>(), out.data_ptr<float>(), cols);
    else
        softmax_rows<<<rows, THREADS, 0, at::cuda::getCurrentCUDAStream()>>>(
            x.data_ptr<float>(), out.data_ptr<float>(), cols, vec);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    return out;
}
'''

SOURCE = r'''
import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

CUDA = r"""$CUDA"""

_ext = load_inline(name="autodocket_softmax_$NAME",
                   cpp_sources="torch::Tensor softmax_last(torch::Tensor x);",
                   cuda_sources=CUDA, functions=["softmax_last"],
                   extra_cuda_cflags=["-O3", "-lineinfo"])


class ModelNew(nn.Module):
    def forward(self, x):
        return _ext.softmax_last(x.contiguous())
'''


def render(config: dict, ops: set[str]) -> str:
    from string import Template
    log = "log_softmax" in ops
    cuda = Template(CUDA).substitute(config, LOG="true" if log else "false")
    return Template(SOURCE).substitute(
        CUDA=cuda, NAME=f"log{int(log)}_{config['THREADS']}_{config['CACHE']}")
