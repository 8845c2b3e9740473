"""How close to the copy ceiling can any kernel get at a problem's size? A plain copy of each
memory-bound catalog problem's default-set bytes, timed as the harness times a kernel.

    python benchmarks/copy_by_size.py [--only a,b] [--run RUN.json] [--json FILE.json]

The card's copy ceiling (tools.roofline) is measured on 1 GiB each way, where a launch's fixed
cost and its ramp and tail vanish; issue 20 asks every memory-bound problem for 90% of it. For
each problem this copies its bytes (half read, half written: one launch, nothing computed) with
`tools.bench.runtime.time_callables` (L2 flushed, the launch not timed, medians of 100) and
gives the copy's fraction of the ceiling: no single-launch kernel moving those bytes reaches
more, and a kernel of k launches pays k launches' fixed cost on top. `--run` adds each
problem's kernel from a kernel_library run's JSON beside it. Needs CUDA; on a CPU machine it
says so and exits 1.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.provenance import commit  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="", help="comma-separated catalog problems")
    ap.add_argument("--run", type=Path, help="a kernel_library.py JSON: its kernels beside")
    ap.add_argument("--repeats", type=int, default=100)
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/copy_by_size.json")
    args = ap.parse_args()
    import torch
    if not torch.cuda.is_available():
        print("no CUDA device here: copies are timed only on a GPU", file=sys.stderr)
        sys.exit(1)
    from kernels.library import CATALOG
    from tools.bench.runtime import time_callables
    from tools.problem import load_problem
    from tools.roofline import ceilings, place, problem_cost
    peak = ceilings()
    kernels = {r["problem"]: r for r in json.loads(args.run.read_text())["rows"]} \
        if args.run else {}
    wanted = [n for n in args.only.split(",") if n] or sorted(p.stem for p in CATALOG.glob("*.py"))
    out = {"device": torch.cuda.get_device_name(0), "commit": commit(), "ceilings": peak,
           "command": " ".join(sys.argv), "rows": []}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    for name in wanted:
        cost = problem_cost(load_problem(CATALOG / f"{name}.py"))
        if place(cost, 1.0, peak)["bound"] != "memory":
            continue
        half = cost["bytes"] // 2 // 4  # float32 elements each way
        src = torch.empty(half, dtype=torch.float32, device="cuda")
        dst = torch.empty_like(src)
        timed = time_callables({"copy": lambda: dst.copy_(src)}, [[]], args.repeats)["copy"]
        del src, dst
        row = {"problem": name, "bytes": cost["bytes"], "copy_median_ms": timed["median_ms"],
               "copy_p20_ms": timed["p20_ms"], "copy_p80_ms": timed["p80_ms"],
               "copy_fraction": cost["bytes"] / (timed["median_ms"] * 1e-3) /
               peak["copy_bytes_per_s"], "launch_bound": timed["launch_bound"]}
        if name in kernels and kernels[name].get("kernel_ms"):
            row["kernel_ms"] = kernels[name]["kernel_ms"]
            row["kernel_fraction"] = cost["bytes"] / (row["kernel_ms"] * 1e-3) / \
                peak["copy_bytes_per_s"]
        out["rows"].append(row)
        args.json.write_text(json.dumps(out, indent=1))  # after every problem
    print(f"{out['device']}; copy ceiling {peak['copy_bytes_per_s'] / 1e12:.2f} TB/s (1 GiB "
          "each way); a copy of each problem's default-set bytes, medians in ms")
    print(f"{'problem':22s}{'MB':>8s}{'copy ms':>10s}{'copy %':>8s}{'kernel ms':>11s}"
          f"{'kernel %':>10s}")
    for r in out["rows"]:
        kernel = f"{r['kernel_ms']:11.4f}{r['kernel_fraction']:10.0%}" if "kernel_ms" in r \
            else ""
        print(f"{r['problem']:22s}{r['bytes'] / 1e6:8.1f}{r['copy_median_ms']:10.4f}"
              f"{r['copy_fraction']:8.0%}{kernel}")
    print(f"JSON: {args.json}")


if __name__ == "__main__":
    main()
