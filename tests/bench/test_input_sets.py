"""Which input sets the CPU harness runs: a set whose inputs or outputs are too large for the
interpreter is skipped with the reason, the others are judged."""
from tools.bench import bench

PROBLEM = '''import torch
import torch.nn as nn


class Model(nn.Module):
    def forward(self, a, b):
        return torch.outer(a, b)


def get_inputs(n=3000, m=3000):
    return [torch.randn(n), torch.randn(m)]


def get_init_inputs():
    return []


SHAPES = [(37, 50)]
'''

KERNEL = '''import torch
import torch.nn as nn
import triton
import triton.language as tl


@triton.jit
def outer_kernel(a_ptr, b_ptr, out_ptr, m, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    for start in range(0, m, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        mask = cols < m
        value = tl.load(a_ptr + row) * tl.load(b_ptr + cols, mask=mask)
        tl.store(out_ptr + row * m + cols, value, mask=mask)


class ModelNew(nn.Module):
    def forward(self, a, b):
        out = torch.empty(a.shape[0], b.shape[0], device=a.device, dtype=a.dtype)
        outer_kernel[(a.shape[0],)](a, b, out, b.shape[0], BLOCK=64)
        return out
'''


def test_a_small_input_with_a_large_output_is_skipped_on_the_cpu(tmp_path):
    problem, kernel = tmp_path / "outer.py", tmp_path / "outer_kernel.py"
    problem.write_text(PROBLEM)
    kernel.write_text(KERNEL)
    report = bench(problem, kernel, device="cpu", use_cache=False)
    assert report.status == "correct", report.feedback()
    rows = {r["input_set"]: r for r in report.correctness}
    assert "9000000 output elements" in rows["default"]["skipped"]
    assert rows["set1"]["trials"] == 5 and rows["set1"]["shapes"] == [[37], [50]]


def test_the_compile_baseline_is_static_for_every_input_set():
    """Dynamo turns a second shape into a dynamic-shape graph unless told not to: the
    torch.compile baseline of every set after the first would then be shape-generic."""
    import torch

    from tools.bench.reference import static_compile
    graphs = []

    def recording_backend(gm, example_inputs):
        graphs.append([type(d).__name__ for x in example_inputs if isinstance(x, torch.Tensor)
                       for d in x.shape])
        return gm.forward

    model = torch.nn.Softmax(dim=-1)
    torch._dynamo.reset()
    for shape in [(4, 8), (16, 32), (5, 7)]:
        static_compile(model, backend=recording_backend)(torch.randn(*shape))
    assert graphs == [["int", "int"]] * 3
