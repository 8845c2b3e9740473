"""Planted CUDA bug: a thread reads its neighbour's shared-memory slot with no barrier after the writes (the output does not depend on it, the race is still there)."""
import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

CUDA = r"""
#include <torch/extension.h>
#include <ATen/cuda/CUDAContext.h>

__global__ void add_kernel(const float* x, const float* y, float* out, int64_t n) {
    __shared__ float buf[256];
    int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    buf[threadIdx.x] = i < n ? x[i] : 0.0f;
    float neighbour = buf[(threadIdx.x + 1) % blockDim.x];  // no __syncthreads() before
    if (i < n) out[i] = x[i] + y[i] + 0.0f * neighbour;
}

torch::Tensor add(torch::Tensor x, torch::Tensor y) {
    auto out = torch::empty_like(x);
    int64_t n = x.numel();
    add_kernel<<<(n + 255) / 256, 256, 0, at::cuda::getCurrentCUDAStream()>>>(x.data_ptr<float>(), y.data_ptr<float>(),
                                                     out.data_ptr<float>(), n);
    return out;
}
"""

_ext = load_inline(name="autodocket_case_cuda_shared_race", cpp_sources="torch::Tensor add(torch::Tensor x, torch::Tensor y);",
                   cuda_sources=CUDA, functions=["add"], extra_cuda_cflags=["-lineinfo"])


class ModelNew(nn.Module):
    def forward(self, x, y):
        return _ext.add(x.contiguous(), y.contiguous())
