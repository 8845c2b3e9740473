"""The CUDA C++ templates, on the CPU: a task that asks for CUDA gets the CUDA template of its
problem (and a Triton task never does), each renders to a file that parses, builds an
extension and passes the static checks; the harness refuses to run C++/CUDA without a GPU
(after reading its source). Building and running them needs nvcc and a GPU: tests marked
`gpu` (tests/kernels/test_cuda_gpu.py) do that."""
import ast

import pytest

from kernels.library import CATALOG, match, offerings, render, solve
from tools.bench import bench
from tools.bench.static import builds_extension, check_source, rejections

CUDA_FAMILIES = {"softmax": "cuda_softmax", "log_softmax": "cuda_softmax",
                 "bias_gelu": "cuda_elementwise", "swiglu": "cuda_elementwise",
                 "kv_quant_int8": "cuda_quant_int8"}


@pytest.mark.parametrize("problem, family", sorted(CUDA_FAMILIES.items()))
def test_a_cuda_task_gets_the_cuda_template_and_it_renders_clean(problem, family):
    found = match(CATALOG / f"{problem}.py", "cuda")
    assert found is not None and found.family == family
    for config in (found.template.DEFAULT,):
        source = render(found, config)
        ast.parse(source)
        assert builds_extension(source) and "__global__" in source and "$" not in source
        assert rejections(check_source(source)) == [], check_source(source)


@pytest.mark.parametrize("problem", sorted(CUDA_FAMILIES))
def test_a_triton_task_never_gets_a_cuda_template(problem):
    found = match(CATALOG / f"{problem}.py")
    assert found is not None and getattr(found.template, "LANGUAGE", "triton") == "triton"


def test_the_variant_reaches_the_cuda_source():
    gelu = render(match(CATALOG / "bias_gelu.py", "cuda"), {"THREADS": 256, "BLOCKS_PER_SM": 8})
    assert "constexpr bool TANH = true;" in gelu  # the catalog's bias + GELU is tanh-approximated
    log = render(match(CATALOG / "log_softmax.py", "cuda"), {"THREADS": 128, "CACHE": 8})
    assert "constexpr bool LOG = true;" in log and "constexpr int CACHE = 8;" in log
    assert "autodocket_softmax_log1_128_8" in log  # each variant builds its own extension
    int8 = render(match(CATALOG / "kv_quant_int8.py", "cuda"), {"WARPS": 8, "VEC": 4})
    assert "constexpr int VEC = 4;" in int8 and "autodocket_quant_int8_8_4" in int8


def test_no_cuda_template_means_no_offline_cuda_candidate():
    assert match(CATALOG / "kv_quant_int4.py", "cuda") is None  # packs nibbles: int4
    assert match(CATALOG / "layernorm.py", "cuda") is None
    offers = list(offerings(CATALOG / "layernorm.py", "cpu", 1, language="cuda"))
    assert offers == []  # the compiler seed writes Triton: not offered for a CUDA task
    result = solve(CATALOG / "layernorm.py", device="cpu", language="cuda")
    assert result.status == "no-template"
    assert "no cuda template fits" in result.reason and "Triton, not CUDA C++" in result.reason


def test_the_cpu_harness_reads_a_cuda_candidate_but_does_not_run_it(tmp_path):
    kernel = tmp_path / "kernel.py"
    kernel.write_text(render(match(CATALOG / "softmax.py", "cuda"), {"THREADS": 256, "CACHE": 0}))
    report = bench(CATALOG / "softmax.py", kernel, device="cpu")
    assert report.status == "error" and "needs a CUDA GPU" in report.error
    kernel.write_text(kernel.read_text().replace("auto out = torch::empty_like(x);",
                                                 "auto out = torch::softmax(x, -1);"))
    report = bench(CATALOG / "softmax.py", kernel, device="cpu")
    assert report.status == "rejected" and "aten-call" in report.reasons()
    assert any("not run" in n for n in report.notes)
