"""The profiler on this CPU: Nsight Compute reports captured on the H100 (fixtures/, written by
`python benchmarks/profile_check.py` there) parse and are diagnosed; compiler metadata comes
from compiling for sm_90 here; the CLI reads a researcher's own ncu CSV."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from kernels.library import CATALOG, match, render
from tools.profile import profile
from tools.profile.diagnose import diagnose
from tools.profile.ncu import parse_csv

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
CASES = HERE / "cases"


def rows_of(name: str) -> list[dict]:
    return parse_csv((FIXTURES / f"{name}.csv").read_text())


@pytest.mark.parametrize("name, kernel", [("layernorm", "norm_row"),
                                          ("inclusive_scan", "cumsum_row"),
                                          ("strided_copy", "strided_copy"),
                                          ("spill_softmax", "softmax_capped")])
def test_h100_reports_parse_into_base_units(name, kernel):
    (row,) = rows_of(name)
    assert row["kernel"] == kernel
    assert 50_000 < row["duration_ns"] < 1_000_000  # 0.05 to 1 ms: nanoseconds, not us
    assert row["dram_bytes"] > 1e8 and 1e12 < row["dram_bandwidth"] < 3.5e12
    assert 0 < row["achieved_occupancy_pct"] <= 100 and row["top_stalls"]


def test_cross_entropy_report_holds_both_kernels():
    assert [r["kernel"] for r in rows_of("cross_entropy")] == ["token_loss", "mean_of"]


def test_coalesced_and_strided_loads_are_told_apart():
    coalesced, strided = rows_of("layernorm")[0], rows_of("strided_copy")[0]
    assert coalesced["sector_use_pct"] == 100 and coalesced["sectors_per_request"] == 16
    assert strided["sector_use_pct"] == 12.5 and strided["sectors_per_request"] == 32
    lines = diagnose(None, [], [strided], None)
    assert any(line.startswith("uncoalesced global loads in strided_copy: 12% of each "
                               "32-byte sector used, 32.0 sectors per request") for line in lines)
    assert not any("uncoalesced" in line for line in diagnose(None, [], [coalesced], None))
    # a TMA kernel makes no load requests: ncu gives 0% sector use and no sectors per request
    # (the H200's attention, 2026-12-03, was called uncoalesced on that)
    tma = dict(strided, sector_use_pct=0.0, sectors_per_request=None)
    assert not any("uncoalesced" in line for line in diagnose(None, [], [tma], None))


def test_spills_are_seen_in_the_counters():
    spill, clean = rows_of("spill_softmax")[0], rows_of("layernorm")[0]
    assert spill["local_load_sectors"] > 1e6 and not clean["local_load_sectors"]
    assert any(line.startswith("local-memory loads in softmax_capped")
               for line in diagnose(None, [], [spill], None))


def test_a_tiny_finishing_kernel_gets_no_lines():
    lines = diagnose(None, [], rows_of("cross_entropy"), None)
    assert any("token_loss" in line for line in lines)
    assert not any("mean_of" in line for line in lines)  # 1% of the time


def test_roofline_and_launch_rules():
    memory = {"bound": "memory", "bandwidth_bytes_per_s": 1.2e12, "fraction_of_ceiling": 0.4,
              "bytes": 10**9, "flops": 0, "flops_per_s": 0}
    few = [{"kernel": "row_kernel", "programs": 64, "metadata": {"local_bytes": 0}}]
    lines = diagnose(memory, few, None, 132)
    assert lines[0] == "memory-bound: 1.20 TB/s, 40% of the card's measured ceiling (far from it)"
    assert "latency bound: 64 programs of row_kernel for 132 SMs" in lines[1]
    near = dict(memory, fraction_of_ceiling=0.95, bandwidth_bytes_per_s=2.85e12)
    assert diagnose(near, few, None, 132) == [
        "memory-bound: 2.85 TB/s, 95% of the card's measured ceiling"]
    # a strided gather reads a 32nd of its input: 135% of the copy ceiling is the byte count's
    above = dict(memory, fraction_of_ceiling=1.35, bandwidth_bytes_per_s=5.72e12)
    assert diagnose(above, few, None, 132)[0].startswith(
        "memory-bound: 5.72 TB/s, 135% of the card's measured ceiling (above it: less came from")


def test_cpu_profile_compiles_for_sm90_and_finds_forced_spills():
    report = profile(CASES / "spill_problem.py", CASES / "spill_softmax.py", device="cpu")
    assert report.status == "profiled", report.error
    meta = report.kernels[0]["metadata"]
    assert meta["target"] == "sm_90" and meta["registers"] <= 32 and meta["local_bytes"] > 0
    assert report.diagnosis[0].startswith("register spills in softmax_capped")
    assert report.roofline is None and report.ncu is None
    assert any("no GPU here" in m for m in report.missing)


def test_cpu_profile_of_a_catalog_kernel_has_no_spills(tmp_path):
    found = match(CATALOG / "softmax.py")
    kernel = tmp_path / "k.py"
    kernel.write_text(render(found, found.template.DEFAULT))
    report = profile(CATALOG / "softmax.py", kernel, device="cpu")
    assert report.status == "profiled", report.error
    (first,) = {k["kernel"]: k for k in report.kernels}.values()
    assert first["kernel"] == "softmax_row" and first["programs"] == 8192
    assert first["metadata"]["local_bytes"] == 0 and first["metadata"]["registers"] > 0
    assert report.diagnosis == []
    assert "softmax_row:" in report.feedback() and "0 B spilled" in report.feedback()


def test_cpu_profile_compiles_a_bfloat16_kernel_in_bfloat16(tmp_path):
    """The harness checks bfloat16 problems in float32 on the CPU; the profile must compile
    what the GPU runs (a float32 build of the attention kernel reported spills it has not)."""
    found = match(CATALOG / "gqa_causal_attention.py")
    kernel = tmp_path / "k.py"
    kernel.write_text(render(found, found.template.DEFAULT))
    report = profile(CATALOG / "gqa_causal_attention.py", kernel, device="cpu")
    assert report.status == "profiled", report.error
    types = report.kernels[0]["metadata"]["tensor_types"]
    assert set(types) == {"q_src", "k_src", "v_src", "o_src"}
    assert all("bf16" in kind for kind in types.values()), types


def test_cli_reads_an_ncu_report_and_refuses_other_files(tmp_path):
    cmd = [sys.executable, "-m", "agents.cli", "profile", "--ncu-report"]
    ok = subprocess.run(cmd + [str(FIXTURES / "strided_copy.csv"), "--json"],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    doc = json.loads(ok.stdout)
    assert doc["ncu"][0]["kernel"] == "strided_copy"
    assert any(d.startswith("uncoalesced") for d in doc["diagnosis"])
    bad = tmp_path / "notes.csv"
    bad.write_text("a,b\n1,2\n")
    refused = subprocess.run(cmd + [str(bad)], capture_output=True, text=True)
    assert refused.returncode == 2 and "not an Nsight Compute raw CSV" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_units_other_than_base_are_converted():
    text = ('"ID","Kernel Name","gpu__time_duration.sum","dram__bytes_read.sum",'
            '"dram__bytes_write.sum"\n"","","usecond","Mbyte","Kbyte"\n'
            '"0","k","180.5","268.4","1,024"\n')
    (row,) = parse_csv(text)
    assert row["duration_ns"] == pytest.approx(180_500)
    assert row["dram_bytes"] == pytest.approx(268.4e6 + 1.024e6)


@pytest.mark.gpu
def test_h100_profile_agrees_with_the_harness_and_diagnoses_the_bad_kernels(tmp_path):
    """On a GPU with ncu: benchmarks/profile_check.py's claims (within 10%; both diagnoses)."""
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(Path(__file__).parents[2] /
                                               "benchmarks/profile_check.py"),
                           "--only", "softmax,strided_copy,spill_softmax", "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = json.loads((out / "profile_check.json").read_text())
    off = [{k: r.get(k) for k in ("case", "bench_status", "bench_rejections", "harness_ms",
                                  "ncu_ms", "disagreement", "diagnosed")}
           for r in rows if not (r.get("disagreement", 1) <= 0.10 and r.get("diagnosed"))]
    # which case, and by how much, in full (the device's log is all there is; pytest
    # shortens a dict's repr)
    assert not off, json.dumps(off)


@pytest.mark.gpu
def test_after_a_measurement_the_profile_takes_one_process_under_ncu(tmp_path):
    """The loop's profile of a measured kernel: the harness's roofline position, ncu's rows and
    the compiler metadata, from one sandboxed process (no second timing)."""
    from tools.bench import bench
    problem = CATALOG / "softmax.py"
    kernel = tmp_path / "kernel.py"
    kernel.write_text(render(match(problem), match(problem).template.DEFAULT))
    measured = bench(problem, kernel, device="cuda", repeats=20)
    assert measured.status == "correct" and measured.roofline, measured.feedback()
    report = profile(problem, kernel, device="cuda", roofline=measured.roofline)
    assert report.status == "profiled", report.error
    assert report.roofline == measured.roofline
    assert report.ncu and report.ncu[0]["kernel"].startswith("softmax")
    assert all("registers" in k["metadata"] for k in report.kernels)


def test_the_coder_is_told_the_profile_of_a_rejected_attempt():
    """A council's rejection of a slow GPU attempt carries the attempt's profile (on the CPU
    only failed measurements are profiled: tests/loop/test_models.py)."""
    from agents.graph import _profile_note
    from tools.profile import ProfileReport
    prof = ProfileReport("profiled", {"name": "NVIDIA H100 80GB HBM3"}, kernels=[
        {"kernel": "strided_copy", "programs": 4096, "metadata": {
            "registers": 28, "local_bytes": 0, "shared_bytes": 0}}],
        ncu=rows_of("strided_copy"), diagnosis=diagnose(None, [], rows_of("strided_copy"), None),
        notes=["the child Nsight Compute profiled kept the network namespace"])
    note = _profile_note({"profile": prof.to_dict()})
    assert note.startswith("\nprofile (NVIDIA H100 80GB HBM3): strided_copy: 28 registers")
    lines = note.splitlines()
    assert any(line.startswith("uncoalesced global loads in strided_copy") for line in lines)
    # how it was measured is a note, not something left unprofiled
    assert lines[-1] == "note: the child Nsight Compute profiled kept the network namespace"
    assert not any(line.startswith("not profiled") for line in lines)
    assert _profile_note({"profile": None}) == ""


def test_a_problem_whose_cost_cannot_be_counted_gets_no_position_not_a_rejection():
    import types

    import torch

    from tools.bench.runtime import roofline_of

    class Model:
        def __init__(self):
            pass

        def __call__(self, x):
            raise RuntimeError("data-dependent shape")

    problem = types.SimpleNamespace(Model=Model, get_init_inputs=lambda: [],
                                    get_inputs=lambda: [torch.ones(4)])
    spot, why = roofline_of(problem, 1.0, {"copy_bytes_per_s": 3e12, "bf16_flops_per_s": 7e14})
    assert spot is None and why.startswith("no roofline position: RuntimeError")
    from tools.problem import load_problem
    softmax = load_problem(CATALOG / "softmax.py")
    spot, why = roofline_of(softmax, 0.2, {"copy_bytes_per_s": 3e12, "bf16_flops_per_s": 7e14})
    assert why is None and spot["bound"] == "memory" and spot["bytes"] == 2 * 8192 * 8192 * 4
    assert spot["fraction_of_ceiling"] == pytest.approx(2 * 8192 * 8192 * 4 / 0.2e-3 / 3e12)
