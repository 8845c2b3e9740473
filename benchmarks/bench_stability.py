"""Is the measurement harness precise? Times honest kernels twice in one run on the GPU.

    python benchmarks/bench_stability.py [--repeats 100] [--starved N]
                                         [--json benchmarks/results/bench_stability.json]

For each honest kernel: kernel, eager and torch.compile medians with 20/80 percentiles, the
speedups (ratios from the same run), and the drift between two timing passes of the same kernel
(goal, issue 4: within 3%), and how many timed runs launched slower than the GPU's cushion
(`launch_bound`: kernel, eager, compile). `--starved N` keeps N busy processes on the host's
CPUs throughout (a search's compiles beside the timing): do the medians hold? Needs CUDA; on a
CPU machine it says so and exits 1.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the honest test kernels, on problem sizes that fill an H100 (launch overhead stays small)
KERNELS = [("vector_add", "benchmarks/problems/vector_add_large.py", "tests/verify/cases/vector_add_ok.py"),
           ("bias_gelu", "benchmarks/problems/bias_gelu_large.py", "tests/adversarial/cases/gelu_ok.py"),
           ("softmax", "benchmarks/problems/softmax_large.py", "tests/verify/cases/softmax_ok.py"),
           ("layernorm", "benchmarks/problems/layernorm_large.py", "tests/verify/cases/layernorm_ok.py"),
           ("matmul", "benchmarks/problems/matmul_large.py", "tests/verify/cases/matmul_ok.py")]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=100)
    ap.add_argument("--starved", type=int, default=0, metavar="N",
                    help="N processes spinning on the CPUs while the harness measures")
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/bench_stability.json")
    args = ap.parse_args()
    import torch
    if not torch.cuda.is_available():
        print("no CUDA device here: the harness times only on a GPU", file=sys.stderr)
        sys.exit(1)
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                for _ in range(args.starved)]
    try:
        measure(args)
    finally:
        for spinner in spinners:
            spinner.kill()


def measure(args) -> None:
    from tools.bench import bench
    rows, device = [], {}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    for name, problem, kernel in KERNELS:
        report = bench(ROOT / problem, ROOT / kernel, device="cuda", repeats=args.repeats)
        if report.status != "correct":
            rows.append({"kernel": name, "status": report.status, "why": report.feedback()})
        device = report.device
        for s in (report.timing or {}).get("sets", []):
            f, g = s["first"], s["second"]
            rows.append({"kernel": name, "status": "correct", "input_set": s["input_set"],
                         "shapes": s["shapes"], "kernel_ms": f["kernel"]["median_ms"],
                         "kernel_p20_ms": f["kernel"]["p20_ms"], "kernel_p80_ms": f["kernel"]["p80_ms"],
                         "kernel_again_ms": g["kernel"]["median_ms"],
                         "eager_ms": f["eager"]["median_ms"],
                         "compile_ms": f.get("compile", {}).get("median_ms"),
                         "vs_eager": s.get("speedup_vs_eager"), "vs_compile": s.get("speedup_vs_compile"),
                         "drift": s["kernel_drift"], "flags": s["flags"],
                         "launch_bound": {k: t["launch_bound"] for k, t in f.items()}})
        args.json.write_text(json.dumps({"device": device, "repeats": args.repeats,
                                         "starved": args.starved, "rows": rows}, indent=2))
    print(f"{device.get('name')}, torch {device.get('torch')}, triton {device.get('triton')}, "
          f"{args.repeats} timed runs per pass, L2 flushed, medians in ms; "
          f"{args.starved} processes spinning on the CPUs")
    print(f"{'kernel':<11}{'set':<8}{'kernel':>9}{'again':>9}{'drift':>7}{'eager':>9}{'compile':>9}"
          f"{'vs eager':>9}{'vs comp.':>9}  launch-bound runs")
    for r in rows:
        if r["status"] != "correct":
            print(f"{r['kernel']:<11}{r['status']}: {r['why'][:100]}")
            continue
        comp = f"{r['compile_ms']:>9.4f}" if r["compile_ms"] else f"{'-':>9}"
        vs_c = f"{r['vs_compile']:>8.2f}x" if r["vs_compile"] else f"{'-':>9}"
        print(f"{r['kernel']:<11}{r['input_set']:<8}{r['kernel_ms']:>9.4f}{r['kernel_again_ms']:>9.4f}"
              f"{r['drift']:>7.1%}{r['eager_ms']:>9.4f}{comp}{r['vs_eager']:>8.2f}x{vs_c}  "
              + " ".join(f"{k} {n}" for k, n in r["launch_bound"].items()))
    timed = [r for r in rows if r["status"] == "correct"]
    within = sum(r["drift"] <= 0.03 for r in timed)
    print(f"same kernel timed twice: {within}/{len(timed)} within 3%")


if __name__ == "__main__":
    main()
