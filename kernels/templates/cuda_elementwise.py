"""CUDA C++: fused elementwise epilogues over a flat float32 tensor, bias + GELU (tanh or exact
erf, as the problem asks) and SwiGLU (silu(a) * b), with 128-bit (float4) loads and stores
where the tensor's length, row width and addresses allow, a scalar loop otherwise.
A grid-stride loop over BLOCKS_PER_SM blocks per multiprocessor of THREADS threads.

Tunables: THREADS, BLOCKS_PER_SM.
"""
FAMILY = "cuda_elementwise"
LANGUAGE = "cuda"
REQUIRES = [{"gelu"}, {"silu"}]
PARAMS = {"THREADS": [128, 256, 512], "BLOCKS_PER_SM": [4, 8, 16]}
DEFAULT = {"THREADS": 256, "BLOCKS_PER_SM": 8}
DTYPES = {"float32"}


def valid(config: dict) -> bool:
    return config["THREADS"] * config["BLOCKS_PER_SM"] <= 4096


CUDA = r'''
#include <torch/extension.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <cstdint>

constexpr int THREADS = $THREADS;
constexpr int BLOCKS_PER_SM = $BLOCKS_PER_SM;
constexpr bool TANH = $TANH;  // the problem's GELU: tanh approximation, or exact erf

__device__ __forceinline__ float gelu(float v) {
    if (TANH) {
        float inner = 0.7978845608028654f * (v + 0.044715f * v * v * v);
        return 0.5f * v * (1.0f + tanhf(inner));
    }
    return 0.5f * v * (1.0f + erff(v * 0.7071067811865476f));
}

__device__ __forceinline__ float silu_times(float a, float b) {
    return a / (1.0f + expf(-a)) * b;
}

// four elements of one row at a time: the row width is a multiple of 4, so they share a row.
// The column is kept up to date by the stride's remainder, not a 64-bit division per step.
__global__ void bias_gelu_vec4(const float4* __restrict__ x, const float4* __restrict__ bias,
                               float4* __restrict__ out, int64_t n4, int64_t width) {
    const int64_t w4 = width / 4, stride = (int64_t)gridDim.x * blockDim.x;
    const int64_t step = stride % w4;
    int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    for (int64_t c = i % w4; i < n4; i += stride) {
        float4 v = x[i], b = bias[c];
        v.x = gelu(v.x + b.x);
        v.y = gelu(v.y + b.y);
        v.z = gelu(v.z + b.z);
        v.w = gelu(v.w + b.w);
        out[i] = v;
        c += step;
        if (c >= w4) c -= w4;
    }
}

__global__ void bias_gelu_scalar(const float* __restrict__ x, const float* __restrict__ bias,
                                 float* __restrict__ out, int64_t n, int64_t width) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        out[i] = gelu(x[i] + bias[i % width]);
}

__global__ void swiglu_vec4(const float4* __restrict__ a, const float4* __restrict__ b,
                            float4* __restrict__ out, int64_t n4) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n4;
         i += (int64_t)gridDim.x * blockDim.x) {
        float4 u = a[i], v = b[i];
        out[i] = make_float4(silu_times(u.x, v.x), silu_times(u.y, v.y),
                             silu_times(u.z, v.z), silu_times(u.w, v.w));
    }
}

__global__ void swiglu_scalar(const float* __restrict__ a, const float* __restrict__ b,
                              float* __restrict__ out, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
         i += (int64_t)gridDim.x * blockDim.x)
        out[i] = silu_times(a[i], b[i]);
}

// ---- host code (torch's API); everything above is device code ----
static bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

static int blocks_for(int64_t work) {
    int64_t wanted = (work + THREADS - 1) / THREADS;
    int64_t resident = (int64_t)at::cuda::getCurrentDeviceProperties()->multiProcessorCount *
                       BLOCKS_PER_SM;
    return (int)std::max<int64_t>(1, std::min(wanted, resident));
}

static void check(const torch::Tensor& t, const char* name) {
    TORCH_CHECK(t.is_cuda() && t.scalar_type() == torch::kFloat32 && t.is_contiguous(),
                name, " must be a contiguous float32 CUDA tensor");
}

torch::Tensor bias_gelu(torch::Tensor x, torch::Tensor bias) {
    check(x, "x");
    check(bias, "bias");
    auto out = torch::empty_like(x);
    int64_t n = x.numel(), width = x.size(-1);
    if (n == 0) return out;
    auto stream = at::cuda::getCurrentCUDAStream();
    const float* xp = x.data_ptr<float>();
    float* op = out.data_ptr<float>();
    const float* bp = bias.data_ptr<float>();
    if (n % 4 == 0 && width % 4 == 0 && aligned16(xp) && aligned16(op) && aligned16(bp)) {
        bias_gelu_vec4<<<blocks_for(n / 4), THREADS, 0, stream>>>(
            reinterpret_cast<const float4*>(xp), reinterpret_cast<const float4*>(bp),
            reinterpret_cast<float4*>(op), n / 4, width);
    } else {
        bias_gelu_scalar<<<blocks_for(n), THREADS, 0, stream>>>(xp, bp, op, n, width);
    }
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    return out;
}

torch::Tensor swiglu(torch::Tensor a, torch::Tensor b) {
    check(a, "a");
    check(b, "b");
    auto out = torch::empty_like(a);
    int64_t n = a.numel();
    if (n == 0) return out;
    auto stream = at::cuda::getCurrentCUDAStream();
    const float* ap = a.data_ptr<float>();
    const float* bp = b.data_ptr<float>();
    float* op = out.data_ptr<float>();
    if (n % 4 == 0 && aligned16(ap) && aligned16(bp) && aligned16(op)) {
        swiglu_vec4<<<blocks_for(n / 4), THREADS, 0, stream>>>(
            reinterpret_cast<const float4*>(ap), reinterpret_cast<const float4*>(bp),
            reinterpret_cast<float4*>(op), n / 4);
    } else {
        swiglu_scalar<<<blocks_for(n), THREADS, 0, stream>>>(ap, bp, op, n);
    }
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    return out;
}
'''

SOURCE = r'''
import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

CUDA = r"""$CUDA"""

_ext = load_inline(
    name="autodocket_elementwise_$NAME", cpp_sources=(
        "torch::Tensor bias_gelu(torch::Tensor x, torch::Tensor bias);\n"
        "torch::Tensor swiglu(torch::Tensor a, torch::Tensor b);"),
    cuda_sources=CUDA, functions=["bias_gelu", "swiglu"],
    extra_cuda_cflags=["-O3", "-lineinfo"])


$MODEL
'''

GELU_MODEL = '''class ModelNew(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.bias = nn.Parameter(torch.randn(width))

    def forward(self, x):
        return _ext.bias_gelu(x.contiguous(), self.bias.contiguous())'''

SWIGLU_MODEL = '''class ModelNew(nn.Module):
    def forward(self, a, b):
        return _ext.swiglu(a.contiguous(), b.contiguous())'''


def render(config: dict, ops: set[str]) -> str:
    from string import Template
    tanh = int("gelu_tanh" in ops)
    cuda = Template(CUDA).substitute(config, TANH="true" if tanh else "false")
    name = f"t{tanh}_{config['THREADS']}_{config['BLOCKS_PER_SM']}"
    return Template(SOURCE).substitute(CUDA=cuda, NAME=name,
                                       MODEL=GELU_MODEL if "gelu" in ops else SWIGLU_MODEL)
