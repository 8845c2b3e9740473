"""CUDA C++ on a GPU (marked `gpu`: CI has neither nvcc nor a GPU). The three CUDA templates
build, pass the harness, compute-sanitizer (memcheck, racecheck, initcheck) and the shared-memory
fill, and are timed against eager and torch.compile; each planted CUDA bug is rejected with the
finding of the check named for it; a CUDA task runs through the loop to a pull request whose
report states the kernel's guarantee; the profile reads a CUDA kernel's registers and spills
from its built library."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from git import Repo

from kernels.library import CATALOG, match, render
from tools.bench import bench

CASES = Path(__file__).resolve().parents[1] / "adversarial" / "cases"
TEMPLATES = ["softmax", "bias_gelu", "kv_quant_int8"]  # one problem for each CUDA template
BUGS = {"cuda_tail_store": "memcheck", "cuda_grid_off_by_one": "memcheck",
        "cuda_shared_race": "racecheck", "cuda_uninitialised_read": "initcheck",
        "cuda_uninitialised_shared_read": "shared-fill"}  # initcheck sees global memory only


@pytest.mark.gpu
@pytest.mark.parametrize("problem", TEMPLATES)
def test_cuda_templates_pass_the_harness_and_the_sanitizer(problem, tmp_path):
    found = match(CATALOG / f"{problem}.py", "cuda")
    kernel = tmp_path / "kernel.py"
    kernel.write_text(render(found, found.template.DEFAULT))
    report = bench(CATALOG / f"{problem}.py", kernel, device="cuda", sanitize=True)
    assert report.status == "correct", report.feedback()
    assert report.dynamic_check["status"] == "clean", report.dynamic_check
    assert set(report.dynamic_check["tools"]) == {"memcheck", "racecheck", "initcheck",
                                                  "shared-fill"}
    print(f"{found.family} on {problem}:", [
        (s["input_set"], round(s["vs_eager"], 2), s["vs_compile"] and round(s["vs_compile"], 2))
        for s in report.speedups()])


@pytest.mark.gpu
def test_the_profile_reads_a_cuda_kernels_registers_and_spills(tmp_path):
    from tools.profile import profile
    found = match(CATALOG / "softmax.py", "cuda")
    kernel = tmp_path / "kernel.py"
    kernel.write_text(render(found, found.template.DEFAULT))
    report = profile(CATALOG / "softmax.py", kernel, device="cuda")
    assert report.status == "profiled", report.error
    cuda = [k for k in report.kernels if k["metadata"].get("language") == "cuda"]
    assert cuda and isinstance(cuda[0]["metadata"].get("registers"), int), report.kernels
    assert report.ncu, report.missing  # Nsight Compute saw the extension's kernel too
    print(report.feedback())


@pytest.mark.gpu
@pytest.mark.parametrize("case", sorted(BUGS))
def test_planted_cuda_bugs_are_rejected_with_the_sanitizers_finding(case):
    report = bench(CASES / "add_problem.py", CASES / f"{case}.py", device="cuda", sanitize=True)
    assert report.status == "rejected"
    sanitizer = [r for r in report.rejections if r["reason"] == "sanitizer"]
    assert sanitizer and BUGS[case] in sanitizer[0]["detail"], report.rejections
    print(case, "->", sanitizer[0]["detail"][:300])


@pytest.mark.gpu
def test_a_cuda_reward_hack_is_rejected_by_the_static_checks():
    report = bench(CASES / "add_problem.py", CASES / "cuda_cublas_hack.py", device="cuda")
    assert report.status == "rejected" and "aten-call" in report.reasons()


@pytest.mark.gpu
def test_a_cuda_task_runs_through_the_loop_to_a_pull_request(tmp_path):
    lab = tmp_path / "lab"
    lab.mkdir()
    (lab / "DOCKET.md").write_text(
        "# Lab\n\n## Pending Tasks\n- [ ] **CUDA softmax**: write a CUDA C++ kernel for row "
        "softmax over 4096 columns.\n")
    repo = Repo.init(lab, initial_branch="main")
    repo.index.add(["DOCKET.md"])
    repo.index.commit("lab")
    run = subprocess.run([sys.executable, "-m", "agents.cli", "run", "--max-tasks", "1",
                          "--device", "cuda", "--search-budget", "1"], cwd=lab,
                         capture_output=True, text=True, timeout=1200,
                         env={**os.environ, "COLUMNS": "200"})
    assert run.returncode == 0, run.stderr[-3000:]
    branch = "autodocket/cuda-softmax"
    evidence = json.loads(repo.git.show(f"{branch}:results/cuda-softmax/evidence.json"))
    kernel = repo.git.show(f"{branch}:results/cuda-softmax/kernel.py")
    report = repo.git.show(f"{branch}:results/cuda-softmax/REPORT.md")
    assert "load_inline" in kernel and "__global__" in kernel
    assert evidence["verification"]["status"] == "unsupported"
    assert evidence["dynamic_check"]["status"] == "clean"
    assert "Guarantee: Z3: unsupported; compute-sanitizer memcheck, racecheck, initcheck and a " \
        "shared-memory fill" in report
    print(report)
