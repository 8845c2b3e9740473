"""Planted CUDA bug: the block stages only the first half of its shared-memory tile, then every
thread reads its own slot (the output does not depend on it while shared memory happens to
hold finite values; compute-sanitizer's initcheck does not watch shared memory)."""
import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

CUDA = r"""
#include <torch/extension.h>
#include <ATen/cuda/CUDAContext.h>

__global__ void add_kernel(const float* x, const float* y, float* out, int64_t n) {
    __shared__ float tile[256];
    int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
    if (threadIdx.x < 128) tile[threadIdx.x] = i < n ? x[i] : 0.0f;  // half the tile
    __syncthreads();
    if (i < n) out[i] = x[i] + y[i] + 0.0f * tile[threadIdx.x];
}

torch::Tensor add(torch::Tensor x, torch::Tensor y) {
    auto out = torch::empty_like(x);
    int64_t n = x.numel();
    add_kernel<<<(n + 255) / 256, 256, 0, at::cuda::getCurrentCUDAStream()>>>(
        x.data_ptr<float>(), y.data_ptr<float>(), out.data_ptr<float>(), n);
    return out;
}
"""

_ext = load_inline(name="autodocket_case_cuda_uninitialised_shared_read",
                   cpp_sources="torch::Tensor add(torch::Tensor x, torch::Tensor y);",
                   cuda_sources=CUDA, functions=["add"], extra_cuda_cflags=["-lineinfo"])


class ModelNew(nn.Module):
    def forward(self, x, y):
        return _ext.add(x.contiguous(), y.contiguous())
