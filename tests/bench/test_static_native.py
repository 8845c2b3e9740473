"""The static checks read the C++/CUDA a candidate builds with load_inline: cuBLAS, cuDNN or
ATen doing the math, streams or threads of its own, and host-side caches are rejected there as
they are in Python; an honest extension (a __global__ kernel, ATen only to allocate and for the
current stream) passes. These run without nvcc: the text is read, never built."""
import pytest

from tools.bench.static import check_source, rejections

HONEST = r'''import torch
import torch.nn as nn
from torch.utils.cpp_extension import load_inline

CUDA = r"""
#include <torch/extension.h>
#include <ATen/cuda/CUDAContext.h>

// one block per row: no cuBLAS here, the row's sum by warp shuffles
__global__ void row_scale(const float* x, float* y, int cols) {
    int row = blockIdx.x;
    for (int c = threadIdx.x; c < cols; c += blockDim.x)
        y[row * cols + c] = 2.0f * x[row * cols + c];
}

torch::Tensor scale(torch::Tensor x) {
    TORCH_CHECK(x.is_cuda(), "x must be on the GPU");
    auto y = torch::empty_like(x);
    auto stream = at::cuda::getCurrentCUDAStream();
    row_scale<<<x.size(0), 256, 0, stream>>>(x.data_ptr<float>(), y.data_ptr<float>(),
                                              x.size(1));
    return y;
}
"""

_ext = load_inline(name="scale_ext", cpp_sources="torch::Tensor scale(torch::Tensor x);",
                   cuda_sources=CUDA, functions=["scale"])


class ModelNew(nn.Module):
    def forward(self, x):
        return _ext.scale(x.contiguous())
'''


def _findings(source):
    return [(f.name, f.text) for f in rejections(check_source(source))]


def test_an_honest_extension_passes():
    assert _findings(HONEST) == []


@pytest.mark.parametrize("planted, reason, words", [
    ("cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, a, n, b, n, &zero, c, n);",
     "aten-call", "vendor library (cublasSgemm"),
    ("auto z = torch::matmul(x, x);", "aten-call", "torch::matmul"),
    ("auto z = at::native::softmax(x, 1, false);", "aten-call", "at::native::softmax"),
    ("auto z = x.sum(1);", "aten-call", ".sum()"),
    ("cudaStream_t s; cudaStreamCreate(&s);", "stream-or-thread", "cudaStreamCreate"),
    ("static std::unordered_map<const void*, torch::Tensor> seen;", "pointer-cache",
     "host-side state"),
])
def test_a_hack_inside_the_extension_is_rejected_on_its_line(planted, reason, words):
    source = HONEST.replace("    auto y = torch::empty_like(x);",
                            f"    {planted}\n    auto y = torch::empty_like(x);")
    found = [f for f in rejections(check_source(source)) if f.name == reason]
    assert found and words in found[0].text, check_source(source)
    line = next(i for i, text in enumerate(source.splitlines(), 1) if planted[:20] in text)
    assert found[0].line == line


def test_a_comment_that_names_cublas_is_not_a_call():
    assert _findings(HONEST.replace("// one block per row: no cuBLAS here",
                                    "// cublasSgemm would be a hack; torch::matmul too")) == []


def test_a_cublas_include_is_rejected():
    source = HONEST.replace("#include <ATen/cuda/CUDAContext.h>", "#include <cublas_v2.h>")
    assert ("aten-call" in {name for name, _ in _findings(source)})
