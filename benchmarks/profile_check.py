"""Does the profiler tell the truth? On this GPU, for every catalog kernel (template defaults)
and two deliberately bad kernels: the harness's median against Nsight Compute's duration (the
bandwidth each implies for the problem's minimum bytes), and the diagnosis of the bad ones.

    python benchmarks/profile_check.py [--only softmax,layernorm] [--out benchmarks/results/profile]

Prints a table and writes profile_check.json (and each kernel's raw ncu CSV, the test
fixtures) into --out. Needs CUDA and ncu.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CASES = ROOT / "tests/profile/cases"
# (name, problem, kernel, the diagnosis line it must get)
BAD_CASES = [("strided_copy", CASES / "strided_copy_problem.py", CASES / "strided_copy.py",
              "uncoalesced"),
             ("spill_softmax", CASES / "spill_problem.py", CASES / "spill_softmax.py",
              "register spills")]
AGREEMENT = 0.10


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/profile")
    args = ap.parse_args()
    from kernels.library import CATALOG, match, render
    from tools.bench import bench_settled
    from tools.profile import profile
    args.out.mkdir(parents=True, exist_ok=True)
    cases = []
    for name in sorted(p.stem for p in CATALOG.glob("*.py")):  # every catalog problem
        found = match(CATALOG / f"{name}.py")
        kernel = args.out / f"{name}_default.py"
        kernel.write_text(render(found, found.template.DEFAULT))
        cases.append((name, CATALOG / f"{name}.py", kernel, None))
    cases += BAD_CASES
    if args.only:
        cases = [c for c in cases if c[0] in args.only.split(",")]
    rows = []
    for name, problem, kernel, expect in cases:
        print(f"{name}: harness", flush=True)
        measured = bench_settled(problem, kernel, device="cuda", repeats=50, baselines=False)
        print(f"{name}: profile", flush=True)
        prof = profile(problem, kernel, device="cuda", save_ncu_csv=args.out / f"{name}.csv")
        row = {"case": name, "bench_status": measured.status,
               "bench_rejections": measured.rejections,
               "bench_first_rejected": measured.first_rejected,
               "profile": prof.to_dict()}
        if measured.status == "correct" and prof.status == "profiled" and prof.ncu:
            harness_ms = measured.timing["sets"][0]["first"]["kernel"]["median_ms"]
            ncu_ms = sum(r["duration_ns"] or 0 for r in prof.ncu) / 1e6
            size = prof.roofline["bytes"]
            row.update(harness_ms=harness_ms, ncu_ms=ncu_ms, min_bytes=size,
                       harness_tb_s=size / harness_ms / 1e9, ncu_tb_s=size / ncu_ms / 1e9,
                       dram_tb_s=sum(r["dram_bytes"] or 0 for r in prof.ncu) / ncu_ms / 1e9,
                       disagreement=abs(harness_ms / ncu_ms - 1))
        row["expected"] = expect
        row["diagnosed"] = expect is None or any(line.startswith(expect)
                                                 for line in prof.diagnosis)
        rows.append(row)
        (args.out / "profile_check.json").write_text(json.dumps(rows, indent=1, default=str))
    import torch
    print(f"\n{torch.cuda.get_device_name(0)}; bandwidth = the problem's minimum bytes / time; "
          f"harness: median of 50 (L2 flushed); ncu: gpu__time_duration, caches flushed, clocks "
          f"not locked")
    print(f"{'case':<16}{'harness ms':>11}{'ncu ms':>9}{'TB/s h':>8}{'TB/s ncu':>9}{'DRAM':>7}"
          f"{'diff':>6}  diagnosis")
    for r in rows:
        if "harness_ms" not in r:
            why = r["profile"].get("error") or r["profile"]["missing"]
            print(f"{r['case']:<16} not compared: bench {r['bench_status']} "
                  f"{r['bench_rejections']}, profile {r['profile']['status']} {why}")
            continue
        lines = [d for d in r["profile"]["diagnosis"] if not d.startswith("top warp stalls")]
        ok = "ok" if r["disagreement"] <= AGREEMENT else "OVER 10%"
        mark = "" if r["expected"] is None else (" [expected found]" if r["diagnosed"]
                                                 else " [EXPECTED MISSING]")
        print(f"{r['case']:<16}{r['harness_ms']:>11.4f}{r['ncu_ms']:>9.4f}{r['harness_tb_s']:>8.2f}"
              f"{r['ncu_tb_s']:>9.2f}{r['dram_tb_s']:>7.2f}{r['disagreement']:>6.1%} {ok}{mark}")
        for line in lines[:3]:
            print(f"{'':<18}{line[:110]}")


if __name__ == "__main__":
    main()
