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


def test_a_run_that_logged_the_cards_holds_says_where_the_cards_time_went(tmp_path):
    import json
    run = json.loads((RUNS / "run-4.json").read_text())
    run["card"] = {"0": {"span_s": 530.2, "alone_s": 61.4, "shared_only_s": 402.0,
                         "free_s": 66.8,
                         "waits": {"alone": {"count": 52, "median_s": 6.1, "max_s": 31.0,
                                             "total_s": 390.0},
                                   "shared": {"count": 700, "median_s": 0.4, "max_s": 12.5,
                                              "total_s": 800.0}}}}
    logged = tmp_path / "run.json"
    logged.write_text(json.dumps(run))
    out = subprocess.run([sys.executable, "benchmarks/kernel_library.py", "--table",
                          str(logged)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert ("GPU 0 over 530 s: timed alone 61 s, shared by untimed work only 402 s, free 67 s; "
            "52 requests to time waited 6.1 s median, 31.0 s at most; 700 untimed holds waited "
            "0.4 s median, 12.5 s at most") in out.stdout


def test_the_table_names_winners_whose_final_measurement_was_off_their_screen():
    run = subprocess.run([sys.executable, "benchmarks/kernel_library.py", "--table",
                          str(RUNS / "run-5.json")], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert ("winners measured more than 5% off their screen or measured twice: 2\n"
            "  layernorm its screen 0.1294 ms; measured 0.1384 ms (+7%)\n"
            "  moe_top2_routing its screen 0.0688 ms; measured 0.1054 ms (+53%)") in run.stdout


def test_a_slower_set_inside_the_runs_spread_is_called_a_tie(tmp_path):
    import json
    run = json.loads((RUNS / "run-5.json").read_text())
    rows = {r["problem"]: r for r in run["rows"]}
    rows["swiglu"]["all_sets"][1].update(kernel_p20_ms=0.0165, kernel_p80_ms=0.0170,
                                         compile_p20_ms=0.0163, compile_p80_ms=0.0168)
    rows["inclusive_scan"]["all_sets"][1].update(kernel_p20_ms=0.0130, kernel_p80_ms=0.0134,
                                                 compile_p20_ms=0.0115, compile_p80_ms=0.0119)
    path = tmp_path / "run.json"
    path.write_text(json.dumps(run))
    out = subprocess.run([sys.executable, "benchmarks/kernel_library.py", "--table", str(path)],
                         cwd=ROOT, capture_output=True, text=True, timeout=300).stdout
    assert "  swiglu 1000x4096 0.991x (49 MB) [p20-p80 overlap compile's: a tie]\n" in out
    assert "  inclusive_scan 4096x1000 0.861x (33 MB)\n" in out
