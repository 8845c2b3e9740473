"""CUDA C++: int8 quantization per group of 32 float32 values, and back, in one pass. One warp
per group: each lane holds one value, the group's max |x| comes from warp shuffles, then
scale = max(max|x|, 1e-8) * (1/127) (torch's CUDA kernel divides by a scalar so: an IEEE
division by 127 differs from it in the last bit for some groups), codes =
clamp(round-half-to-even(x / scale), -127, 127) (IEEE division, as torch's between tensors) and
the dequantized value, each lane writing its own. With VEC = 4 a warp takes four groups at a
time, eight lanes a group, each lane a float4 (128-bit loads and stores, four times the bytes
in flight), the group's max from shuffles within its eight lanes.

Tunables: WARPS (warps per block), VEC (values per lane: 1 or 4).
"""
FAMILY = "cuda_quant_int8"
LANGUAGE = "cuda"
REQUIRES = [{"round", "amax", "clamp"}]
PARAMS = {"WARPS": [4, 8, 16], "VEC": [1, 4]}
DEFAULT = {"WARPS": 8, "VEC": 1}
PREFERRED = [{"WARPS": 8, "VEC": 4}, {"WARPS": 4, "VEC": 4}, {"WARPS": 16, "VEC": 4}]
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
constexpr int VEC = $VEC;

__device__ __forceinline__ float scale_of(float amax) {
    return __fmul_rn(fmaxf(amax, 1e-8f), 1.0f / 127.0f);  // as torch: x * (1/127)
}

__device__ __forceinline__ float code(float v, float scale) {
    return fminf(fmaxf(rintf(__fdiv_rn(v, scale)), -127.0f), 127.0f);  // half to even
}

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
        float scale = scale_of(amax);
        float q = code(v, scale);
        codes[g * 32 + lane] = (int8_t)q;
        deq[g * 32 + lane] = q * scale;
        if (lane == 0) scales[g] = scale;
    }
}

// four groups per warp and step: lane l holds float4 number l % 8 of group l / 8
__global__ void quant_int8_vec4(const float4* __restrict__ x, char4* __restrict__ codes,
                                float* __restrict__ scales, float4* __restrict__ deq,
                                int64_t n_groups) {
    int lane = threadIdx.x % 32;
    int64_t first = (blockIdx.x * (int64_t)WARPS + threadIdx.x / 32) * 4;
    for (int64_t base = first; base < n_groups; base += (int64_t)gridDim.x * WARPS * 4) {
        int64_t g = base + lane / 8;
        bool live = g < n_groups;  // the last step may hold fewer than four groups
        int64_t i = g * 8 + lane % 8;
        float4 v = live ? x[i] : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
        float amax = fmaxf(fmaxf(fabsf(v.x), fabsf(v.y)), fmaxf(fabsf(v.z), fabsf(v.w)));
        for (int offset = 4; offset > 0; offset /= 2)  // within the group's eight lanes
            amax = fmaxf(amax, __shfl_xor_sync(0xffffffff, amax, offset));
        float scale = scale_of(amax);
        float4 q = make_float4(code(v.x, scale), code(v.y, scale), code(v.z, scale),
                               code(v.w, scale));
        if (live) {
            codes[i] = make_char4((signed char)q.x, (signed char)q.y, (signed char)q.z,
                                  (signed char)q.w);
            deq[i] = make_float4(q.x * scale, q.y * scale, q.z * scale, q.w * scale);
            if (lane % 8 == 0) scales[g] = scale;
        }
    }
}

// ---- host code (torch's API); everything above is device code ----
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
    int64_t per_block = (int64_t)WARPS * (VEC == 4 ? 4 : 1);  // groups a block takes a step
    int blocks = (int)std::max<int64_t>(1, std::min((n_groups + per_block - 1) / per_block,
                                                    resident));
    bool aligned = reinterpret_cast<uintptr_t>(x.data_ptr<float>()) % 16 == 0;
    if (VEC == 4 && aligned)
        quant_int8_vec4<<<blocks, 32 * WARPS, 0, at::cuda::getCurrentCUDAStream()>>>(
            reinterpret_cast<const float4*>(x.data_ptr<float>()),
            reinterpret_cast<char4*>(codes.data_ptr<int8_t>()), scales.data_ptr<float>(),
            reinterpret_cast<float4*>(deq.data_ptr<float>()), n_groups);
    else
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

_ext = load_inline(name="autodocket_quant_int8_${WARPS}_$VEC",
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
