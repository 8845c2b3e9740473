"""CUDA C++: int8 quantization per group of 32 float32 values, and back, in one pass. One warp
per group: each lane holds one value, the group's max |x| comes from warp shuffles, then
scale = max(max|x|, 1e-8) * (1/127) (torch's CUDA kernel divides by a scalar so: an IEEE
division by 127 differs from it in the last bit for some groups), codes =
clamp(round-half-to-even(x / scale), -127, 127) (IEEE division, as torch's between tensors) and
the dequantized value, each lane writing its own.

Tunables: WARPS (groups per block).
"""
FAMILY = "cuda_quant_int8"
LANGUAGE = "cuda"
REQUIRES = [{"round", "amax", "clamp"}]
PARAMS = {"WARPS": [4, 8, 16]}
DEFAULT = {"WARPS": 8}
DTYPES = {"float32"}


def valid(config: dict) -> bool:
    return True


def fits(ops: set[str]) -> bool:
    return "lshift" not in ops  # a problem packing codes into nibbles wants int4, not this


CUDA = r'''
#include <torch/extension.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <cstdint>

constexpr int WARPS = $WARPS;

__global__ void quant_int8(const float* __restrict__ x, int8_t* __restrict__ codes,
                           float* __restrict__ scales, float* __restrict__ deq,
                           int64_t n_groups) {
    int lane = threadIdx.x % 32;
    for (int64_t g = blockIdx.x * (int64_t)WARPS + threadIdx.x / 32; g < n_groups;
         g += (int64_t)gridDim.x * WARPS) {
        float v = x[g * 32 + lane];
        float amax = fabsf(v);
        for (int offset = 16; offset > 0; offset /= 2)
            amax = fmaxf(amax, __shfl_xor_sync(0xffffffff, amax, offset));
        float scale = __fmul_rn(fmaxf(amax, 1e-8f), 1.0f / 127.0f);  // as torch: x * (1/127)
        float q = fminf(fmaxf(rintf(__fdiv_rn(v, scale)), -127.0f), 127.0f);  // half to even
        codes[g * 32 + lane] = (int8_t)q;
        deq[g * 32 + lane] = q * scale;
        if (lane == 0) scales[g] = scale;
    }
}

std::vector<torch::Tensor> quantize(torch::Tensor x) {
    TORCH_CHECK(x.is_cuda() && x.scalar_type() == torch::kFloat32 && x.is_contiguous(),
                "x must be a contiguous float32 CUDA tensor");
    TORCH_CHECK(x.numel() % 32 == 0, "the values must fill whole groups of 32");
    int64_t n_groups = x.numel() / 32;
    auto codes = torch::empty({n_groups, 32}, x.options().dtype(torch::kInt8));
    auto scales = torch::empty({n_groups}, x.options());
    auto deq = torch::empty_like(x);
    if (n_groups == 0) return {codes, scales, deq};
    int64_t resident = (int64_t)at::cuda::getCurrentDeviceProperties()->multiProcessorCount *
                       (2048 / (32 * WARPS));
    int blocks = (int)std::max<int64_t>(1, std::min((n_groups + WARPS - 1) / WARPS, resident));
    quant_int8<<<blocks, 32 * WARPS, 0, at::cuda::getCurrentCUDAStream()>>>(
        x.data_ptr<float>(), codes.data_ptr<int8_t>(), scales.data_ptr<float>(),
        deq.data_ptr<float>(), n_groups);
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    return {codes, scales, deq};
}
'''

SOURCE = r'''
import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

CUDA = r"""$CUDA"""

_ext = load_inline(name="autodocket_quant_int8_$WARPS",
                   cpp_sources="std::vector<torch::Tensor> quantize(torch::Tensor x);",
                   cuda_sources=CUDA, functions=["quantize"],
                   extra_cuda_cflags=["-O3", "-lineinfo"])


class ModelNew(nn.Module):
    def forward(self, x):
        codes, scales, deq = _ext.quantize(x.contiguous())
        return codes, scales, deq
'''


def render(config: dict, ops: set[str]) -> str:
    from string import Template
    return Template(SOURCE).substitute(config, CUDA=Template(CUDA).substitute(config))
