"""kernel_library.py --table reads runs' JSON without a GPU: the H200 runs committed under
benchmarks/measured give the table and the sets that fail issue 20's gates."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "benchmarks/measured/h200-kernel_library"


def test_the_table_of_two_runs_names_the_sets_below_torch_compile():
    run = subprocess.run([sys.executable, "benchmarks/kernel_library.py", "--table",
                          str(RUNS / "run-1.json"), str(RUNS / "run-2.json")], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    out = run.stdout
    assert "geometric mean speedup vs eager: 2.99x over 17 problems" in out
    assert "sets moving at least 1 MB below 1.00x torch.compile: 12" in out
    assert "  row_argmax 64x32768 0.632x (8 MB)" in out
    assert "3x20000: 0.65x" in out and "row_argmax 3x20000" not in out  # 0.24 MB: not gated
    assert "(cross_entropy 84%, kv_quant_int3 84%, moe_top2_routing 17%)" in out


def test_a_file_that_is_not_a_run_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "run.json"
    bad.write_text("[1, 2]")
    run = subprocess.run([sys.executable, "benchmarks/kernel_library.py", "--table", str(bad)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and run.stderr.count("\n") == 1, run.stderr
    assert "not a kernel_library run's JSON" in run.stderr
