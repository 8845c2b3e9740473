"""Planted CUDA bug: the kernel reads a scratch buffer that nothing ever wrote."""
import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

CUDA = r"""
#include <torch/extension.h>
#include <ATen/cuda/CUDAContext.h>

__global__ void add_kernel(const float* x, const float* y, const float* scratch,
                           float* out, int64_t n) {
    int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (i < n) out[i] = x[i] + y[i] + 0.0f * scratch[i];
}

torch::Tensor add(torch::Tensor x, torch::Tensor y) {
    auto out = torch::empty_like(x);
    int64_t n = x.numel();
    auto scratch = torch::empty_like(x);  // never written
    add_kernel<<<(n + 255) / 256, 256, 0, at::cuda::getCurrentCUDAStream()>>>(x.data_ptr<float>(), y.data_ptr<float>(),
                                                     scratch.data_ptr<float>(),
                                                     out.data_ptr<float>(), n);
    return out;
}
"""

_ext = load_inline(name="autodocket_case_cuda_uninitialised_read", cpp_sources="torch::Tensor add(torch::Tensor x, torch::Tensor y);",
                   cuda_sources=CUDA, functions=["add"], extra_cuda_cflags=["-lineinfo"])


class ModelNew(nn.Module):
    def forward(self, x, y):
        return _ext.add(x.contiguous(), y.contiguous())
