"""The Z3 verifier proves correct kernels and catches planted bugs with the right counterexample.

Runs on the CPU: kernels are compiled to TTIR for sm_90 without a GPU and never executed.
"""
from pathlib import Path

import pytest

from tools.verify import verify

CASES = Path(__file__).parent / "cases"


def run(problem: str, kernel: str):
    return verify(CASES / f"{problem}_problem.py", CASES / f"{kernel}.py", use_cache=False)


@pytest.mark.parametrize("problem", ["vector_add", "softmax", "layernorm", "matmul", "transpose",
                                     "attention", "masked_fill"])
def test_correct_kernels_prove(problem):
    report = run(problem, f"{problem}_ok")
    assert report.status == "proved", report.feedback()
    assert report.exit_code == 0
    obligations = {f["obligation"] for f in report.findings}
    assert obligations == {"in bounds", "race-free", "coverage"}
    assert all(f["status"] == "proved" for f in report.findings)


def violations(report, obligation):
    return [f for f in report.findings if f["status"] == "violated" and f["obligation"] == obligation]


def test_missing_mask_store_past_the_end():
    report = run("vector_add", "bug_missing_mask")
    assert report.status == "violated" and report.exit_code == 1
    [v] = [f for f in violations(report, "in bounds") if "(default)" in f["kernel"]]
    cx = v["counterexample"]
    assert v["access"] == "store of out_ptr at line 11"
    assert cx["program"] == [3, 0, 0] and cx["offset"] >= 1000 and cx["extent"] == 1000
    assert cx["lane"][0] == cx["offset"] - 3 * 256


def test_le_instead_of_lt_reads_one_past_the_row():
    report = run("softmax", "bug_le_instead_of_lt")
    v = violations(report, "in bounds")[0]
    cx = v["counterexample"]
    assert cx["lane"] == [1000] and cx["program"] == [63, 0, 0] and cx["offset"] == 64000
    assert "cols <= n_cols" in cx["code"]


def test_wrong_stride_store_out_of_bounds():
    report = run("transpose", "bug_wrong_stride")
    v = violations(report, "in bounds")[0]
    assert v["access"].startswith("store of y_ptr")
    assert v["counterexample"]["offset"] >= 45 * 70


def test_grid_one_block_too_large():
    report = run("softmax", "bug_grid_too_large")
    v = violations(report, "in bounds")[0]
    assert v["counterexample"]["program"] == [64, 0, 0]  # rows = 64: program 64 is extra


def test_two_programs_writing_the_same_row():
    report = run("softmax", "bug_same_row_twice")
    race = violations(report, "race-free")[0]
    cx = race["counterexample"]
    assert {cx["program"][0], cx["other_program"][0]} in ({0, 1}, {2, 3}) or \
        cx["program"][0] // 2 == cx["other_program"][0] // 2
    assert cx["coordinate"][1] == cx["lane"][0]
    assert violations(report, "coverage")  # and half the rows are never written


def test_k_loop_overrun_names_the_iteration():
    report = run("matmul", "bug_k_loop_overrun")
    v = violations(report, "in bounds")[0]
    assert v["access"].startswith("load of a_ptr")
    assert v["counterexample"]["loop"] == {"k": 4}  # K=72, BK=16: the fifth step overruns
    assert "k=4" in v["detail"]


def test_partially_written_output_is_caught_by_coverage():
    report = run("vector_add", "bug_partial_output")
    [v] = [f for f in violations(report, "coverage") if "(default)" in f["kernel"]]
    assert v["counterexample"]["coordinate"][0] >= 768  # 3 blocks of 256 cover 768 of 1000
    assert all(f["status"] == "proved" for f in report.findings if f["obligation"] == "in bounds")


def test_coverage_of_a_large_output_is_proved_by_constructing_each_writer():
    """16M elements written through Inductor-style division: each element's program and lane
    are constructed and checked, without the quantified query (which times out there)."""
    report = run("scale_rows", "scale_rows_ok")
    assert report.status == "proved", report.feedback()
    coverage = [f for f in report.findings if f["obligation"] == "coverage"]
    assert len(coverage) == 3 and all(f["detail"] == "each element's writer constructed and "
                                       "checked" for f in coverage)


def test_a_writer_guess_that_fails_is_not_taken_for_coverage():
    """Every other element written: the constructed writer of an odd element stores the even
    one before it, so the quantified query runs and names an unwritten odd element."""
    report = run("vector_add", "bug_every_other_element")
    [v] = [f for f in violations(report, "coverage") if "(default)" in f["kernel"]]
    assert v["counterexample"]["coordinate"][0] % 2 == 1
    assert all(f["status"] == "proved" for f in report.findings if f["obligation"] != "coverage")


def test_writers_constructed_through_divisions_and_reversed_blocks():
    """Inductor's x0 = xindex % cols, x1 = xindex // cols, with the blocks taken last first:
    coverage and race-freedom proved by constructing each element's writer; the same kernel
    with its last row unwritten is not proved (whatever the quantified query then says)."""
    report = run("batched_columns", "batched_columns_ok")
    assert report.status == "proved", report.feedback()
    constructed = [f for f in report.findings if f["obligation"] != "in bounds"]
    assert len(constructed) == 6 and all("constructed" in f["detail"] for f in constructed)
    bad = run("batched_columns", "bug_batched_columns_last_row")
    coverage = [f for f in bad.findings if f["obligation"] == "coverage"]
    assert coverage and not any(f["status"] == "proved" for f in coverage)
    assert bad.status != "proved"


def test_cache_makes_reverification_free(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = verify(CASES / "vector_add_problem.py", CASES / "vector_add_ok.py")
    again = verify(CASES / "vector_add_problem.py", CASES / "vector_add_ok.py")
    assert not first.cached and again.cached and again.status == "proved"
    assert again.findings == first.findings


def test_a_cached_verdict_is_of_the_same_launches(tmp_path, monkeypatch):
    """A verdict cached from the verifier's own recording is not the answer for a launch record
    a caller gives (a GPU's, whose grids differ); one record of the same launches, at other
    addresses, is the same answer."""
    import copy

    from tools.verify import record_launches
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    problem, kernel = CASES / "vector_add_problem.py", CASES / "vector_add_ok.py"
    assert verify(problem, kernel).status == "proved"
    record = record_launches(problem, kernel)
    given = verify(problem, kernel, launches=record)
    assert given.status == "proved" and not given.cached
    assert verify(problem, kernel, launches=record_launches(problem, kernel)).cached
    # the same kernel told the length is a block longer than its tensors: stores past the end
    longer = copy.deepcopy(record)
    for found in longer["sets"]:
        for launch in found["launches"]:
            launch["params"] = [[n, {"value": v["value"] + 256} if n == "n" else v]
                                for n, v in launch["params"]]
    told = verify(problem, kernel, launches=longer)
    assert told.status == "violated" and not told.cached, told.feedback()


def test_a_record_naming_something_else_than_a_dtype_proves_nothing(tmp_path, monkeypatch):
    """A launch record is the candidate's data: a tensor whose dtype names another attribute of
    torch is refused for every input set, and nothing is proved."""
    import copy

    from tools.verify import record_launches
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    problem, kernel = CASES / "vector_add_problem.py", CASES / "vector_add_ok.py"
    record = record_launches(problem, kernel)
    forged = copy.deepcopy(record)
    for found in forged["sets"]:
        for launch in found["launches"]:
            for tensor in launch["tensors"].values():
                tensor["dtype"] = "torch.load"
    report = verify(problem, kernel, launches=forged)
    assert report.status == "unsupported" and not report.findings
    assert all("'torch.load' is not a torch dtype" in why for why in report.unsupported)
    assert verify(problem, kernel, launches=record).status == "proved"


def test_bad_input_is_an_error_not_a_crash(tmp_path):
    missing = verify(tmp_path / "nope.py", CASES / "vector_add_ok.py")
    assert missing.status == "error" and missing.exit_code == 2
    broken = tmp_path / "broken.py"
    broken.write_text("import torch\nclass ModelNew(torch.nn.Module):\n"
                      "    def forward(self, x, y):\n        raise RuntimeError('boom')\n")
    report = verify(CASES / "vector_add_problem.py", broken, use_cache=False)
    assert report.status == "error" and "boom" in report.error


def test_the_command_proves_on_the_device_asked_and_refuses_an_unknown_one():
    """`autodocket verify --device cpu` records the launches on the CPU; a device it does not
    know, or a GPU this machine lacks, is one line and exit 2. (`--device cuda` on a GPU, the
    card's launches, is in the GPU tests.)"""
    import json
    import subprocess
    import sys
    files = [str(CASES / "vector_add_problem.py"), str(CASES / "vector_add_ok.py")]
    ran = subprocess.run([sys.executable, "-m", "agents.cli", "verify", *files, "--device",
                          "cpu", "--json"], capture_output=True, text=True)
    assert ran.returncode == 0 and json.loads(ran.stdout)["status"] == "proved", ran.stderr
    wrong = subprocess.run([sys.executable, "-m", "agents.cli", "verify", *files, "--device",
                            "tpu"], capture_output=True, text=True)
    assert wrong.returncode == 2 and wrong.stdout == ""
    assert wrong.stderr.strip() == "autodocket: device must be auto, cpu or cuda, not 'tpu'"
    import torch
    if not torch.cuda.is_available():  # the card's launches asked for where there is none
        no_card = subprocess.run([sys.executable, "-m", "agents.cli", "verify", *files,
                                  "--device", "cuda"], capture_output=True, text=True)
        assert no_card.returncode == 2 and len(no_card.stderr.strip().splitlines()) == 1
        assert no_card.stderr.startswith("autodocket: the harness could not run: ")


def test_kernel_without_triton_launch_is_unsupported(tmp_path):
    torch_only = tmp_path / "torch_only.py"
    torch_only.write_text("import torch\nclass ModelNew(torch.nn.Module):\n"
                          "    def forward(self, x, y):\n        return x + y\n")
    report = verify(CASES / "vector_add_problem.py", torch_only, use_cache=False)
    assert report.status == "unsupported" and report.exit_code == 2
    assert "launched no Triton kernel" in report.feedback()


def test_hanging_candidate_is_killed_and_credentials_are_hidden(tmp_path, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    hang = tmp_path / "hang.py"
    hang.write_text("import os, time, torch\n"
                    "assert 'ANTHROPIC_API_KEY' not in os.environ, 'credential visible'\n"
                    "class ModelNew(torch.nn.Module):\n"
                    "    def forward(self, x, y):\n        time.sleep(3600)\n")
    report = verify(CASES / "vector_add_problem.py", hang, use_cache=False, timeout=3)
    assert report.status == "error" and "limit" in report.error, report.error



def test_tma_accesses_are_checked_against_the_tensor_behind_the_descriptor():
    """TMA boxes are modelled: the hardware clips to the descriptor's shape, so a transpose
    through descriptors proves all three obligations, and a descriptor that claims more rows
    than its tensor has reads past it (counterexample: the first row past the end)."""
    report = run("transpose_tma", "transpose_tma_ok")
    assert report.status == "proved", report.feedback()
    assert {f["obligation"] for f in report.findings} == {"in bounds", "race-free", "coverage"}
    report = run("transpose_tma", "bug_tma_descriptor_too_tall")
    [v] = violations(report, "in bounds")
    cx = v["counterexample"]
    assert v["access"] == "load of x_desc at line 12"
    assert cx["program"][0] == 4 and cx["lane"][0] == 8 and cx["offset"] == 72 * 44 == cx["extent"]


def test_triton_36_descriptor_arguments_and_the_catalog_tma_kernels(tmp_path):
    """Triton 3.6 lists each descriptor's shape and strides as extra IR arguments; the
    catalog's TMA matmul is proved in bounds on every input set."""
    import torch
    from triton.tools.tensor_descriptor import TensorDescriptor

    from kernels.library import CATALOG, match, render
    from tools.verify.worker import ir_arguments
    desc = TensorDescriptor.from_tensor(torch.zeros(40, 16), [8, 16])
    runtime = [("x_desc", desc), ("n", 40)]
    assert ir_arguments(runtime, 2) == runtime
    assert [name for name, _ in ir_arguments(runtime, 6)] == [
        "x_desc", "x_desc.shape0", "x_desc.shape1", "x_desc.stride0", "x_desc.stride1", "n"]
    found = match(CATALOG / "matmul_bias_gelu.py")
    kernel = tmp_path / "k.py"
    kernel.write_text(render(found, found.template.DEFAULT))
    report = verify(CATALOG / "matmul_bias_gelu.py", kernel, use_cache=False)
    bounds = [f for f in report.findings if f["obligation"] == "in bounds"]
    assert any("x_desc" in f["access"] for f in bounds)
    assert bounds and all(f["status"] == "proved" for f in bounds)
    assert not report.unsupported


def test_value_names_with_a_minus_sign_are_read():
    # Triton names the constant -1 `%c-1_i32`; a reader that stops at the "-" crashed on every
    # kernel holding one (a reversed index: Inductor's flip)
    from tools.verify.ttir import parse_module
    ir = ('module {\n  tt.func public @k(%arg0: !tt.ptr<f32>) {\n'
          '    %c-1_i32 = arith.constant -1 : i32\n    tt.return\n  }\n}\n')
    _, ops = parse_module(ir, "k.py")
    assert ops[0].results == ["%c-1_i32"] and ops[0].name == "arith.constant"


def test_libdevice_calls_are_values_not_unsupported():
    """GPU Inductor writes tanh, erf, rsqrt, isnan ... as libdevice calls (TTIR
    `tt.extern_elementwise`, pure): they touch no memory, so the kernel is proved; an index a
    libdevice call computes is unconstrained, so a gather through it is not proved."""
    report = run("gelu_exact", "gelu_libdevice_ok")
    assert report.status == "proved", report.feedback()
    report = run("gelu_exact", "bug_index_from_libdevice")
    gather = [f for f in report.findings if f["access"] == "load of x_ptr at line 15"]
    assert report.status != "proved" and gather and gather[0]["status"] != "proved"
    assert gather[0]["counterexample"]["offset"] < 0 or \
        gather[0]["counterexample"]["offset"] >= gather[0]["counterexample"]["extent"]


def test_an_impure_extern_call_stays_unsupported():
    from tools.verify.symbolic import KernelExecutor
    from tools.verify.ttir import Op, Type
    executor = KernelExecutor([], (1, 1, 1))
    text = '%0 {libname = "", libpath = "", pure = {flag}, symbol = "__nv_erff"} : (f32) -> f32'
    for flag, unsupported in (("true", []), ("false", ["unsupported: impure tt.extern_elementwise "
                                                       "at line 7"])):
        executor.unsupported.clear()
        executor.step(Op("tt.extern_elementwise", ["%1"], ["%0"], text.replace("{flag}", flag),
                         [Type((), "f32")], 7))
        assert executor.unsupported == unsupported and executor.env["%1"].kind == "data"


def test_launches_are_recorded_in_the_problems_dtype(tmp_path):
    """The harness runs a candidate on inputs in the problem's DTYPE; a verdict recorded on
    float32 inputs would be about another launch. Both recorders, the verifier's own and the
    harness's, must see the bfloat16 path, and its store past the end."""
    from tools.bench import bench
    problem, kernel = tmp_path / "problem.py", tmp_path / "kernel.py"
    # vector_add declared in bfloat16, and its kernel rounding the length up to whole blocks
    # on the two-byte path only (so storing past the end there)
    source = (CASES / "vector_add_problem.py").read_text()
    problem.write_text(source.replace("import torch.nn as nn\n", "import torch.nn as nn\n"
                                      "DTYPE = torch.bfloat16\nATOL, RTOL = 1e-2, 1e-2\n", 1))
    source = (CASES / "vector_add_ok.py").read_text()
    kernel.write_text(source.replace("n = x.numel()", "n = triton.cdiv(x.numel(), 256) * 256 "
                                     "if x.element_size() == 2 else x.numel()"))
    assert "DTYPE" in problem.read_text() and "element_size" in kernel.read_text()
    own = verify(problem, kernel, use_cache=False)
    assert own.status == "violated", own.feedback()
    assert violations(own, "in bounds")
    tensors = [t for launch in own.launches for t in launch["tensors"].values()]
    assert tensors and all(t.startswith("bfloat16[") for t in tensors), tensors
    report = bench(problem, kernel, device="cpu", use_cache=False, record_launches=True)
    harness = verify(problem, kernel, use_cache=False, launches=report.launch_record)
    assert harness.status == "violated", harness.feedback()
