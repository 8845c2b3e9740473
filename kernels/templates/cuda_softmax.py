"""CUDA C++: row softmax / log-softmax over the last dimension of a float32 tensor. One block
per row; each thread keeps a running (max, sum) over its columns (an online softmax: one read
for the statistics), warps combine theirs with shuffles and the block through shared memory,
then a second read writes the row. 128-bit loads when the row width and addresses allow.

Tunables: THREADS (per row's block).
"""
FAMILY = "cuda_softmax"
LANGUAGE = "cuda"
REQUIRES = [{"softmax"}, {"log_softmax"}]
PARAMS = {"THREADS": [128, 256, 512, 1024]}
DEFAULT = {"THREADS": 256}
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
            float4 v = src4[c];
            if (LOG) {
                v.x = v.x - row_max - log_total; v.y = v.y - row_max - log_total;
                v.z = v.z - row_max - log_total; v.w = v.w - row_max - log_total;
            } else {
                v.x = expf(v.x - row_max) * inv_total; v.y = expf(v.y - row_max) * inv_total;
                v.z = expf(v.z - row_max) * inv_total; v.w = expf(v.w - row_max) * inv_total;
            }
            dst4[c] = v;
        }
    } else {
        for (int64_t c = threadIdx.x; c < cols; c += THREADS) {
            float x = src[c];
            dst[c] = LOG ? x - row_max - log_total : expf(x - row_max) * inv_total;
        }
    }
}

torch::Tensor softmax_last(torch::Tensor x) {
    TORCH_CHECK(x.is_cuda() && x.scalar_type() == torch::kFloat32 && x.is_contiguous(),
                "x must be a contiguous float32 CUDA tensor");
    auto out = torch::empty_like(x);
    int64_t cols = x.size(-1);
    int64_t rows = cols ? x.numel() / cols : 0;
    if (rows == 0) return out;
    bool vec = cols % 4 == 0 && reinterpret_cast<uintptr_t>(x.data_ptr<float>()) % 16 == 0 &&
               reinterpret_cast<uintptr_t>(out.data_ptr<float>()) % 16 == 0;
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
    return Template(SOURCE).substitute(CUDA=cuda, NAME=f"log{int(log)}_{config['THREADS']}")
