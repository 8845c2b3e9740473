"""The kernel library on this GPU: offline coder on every catalog problem, side by side with
PyTorch eager and torch.compile, placed against the card's measured copy bandwidth.

    python benchmarks/kernel_library.py [--budget 3] [--only softmax,swiglu] [--json benchmarks/results/kernels.json]

Prints a table (medians from one run per problem: kernel, eager, compile, speedups, achieved
bandwidth, fraction of the copy roofline) and writes JSON. Needs CUDA.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def copy_bandwidth() -> float:
    """Device-to-device copy, bytes read plus written per second (the memory roofline)."""
    import torch
    from triton.testing import do_bench
    src = torch.empty(2**28, dtype=torch.float32, device="cuda")
    dst = torch.empty_like(src)
    ms = do_bench(lambda: dst.copy_(src), warmup=25, rep=200, return_mode="median")
    return 2 * src.numel() * 4 / (ms * 1e-3)


def bytes_moved(problem_path: Path) -> int:
    """Each input read once and each output written once, at the default input set."""
    import torch
    spec = importlib.util.spec_from_file_location("p", problem_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    inputs = [x.to(getattr(module, "DTYPE", x.dtype)) if x.is_floating_point() else x
              for x in module.get_inputs()]
    model = module.Model(*module.get_init_inputs()).to("meta")
    with torch.no_grad():
        out = model(*[x.to("meta") for x in inputs])
    outs = out if isinstance(out, tuple) else (out,)
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    return sum(x.numel() * x.element_size() for x in inputs) + params + \
        sum(o.numel() * o.element_size() for o in outs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=int, default=3)
    ap.add_argument("--only", default="")
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/kernels.json")
    args = ap.parse_args()
    import torch
    if not torch.cuda.is_available():
        print("no CUDA device here: the kernel benchmark needs a GPU", file=sys.stderr)
        sys.exit(1)
    from kernels.library import CATALOG, solve
    peak = copy_bandwidth()
    rows = []
    names = [n for n in sorted(p.stem for p in CATALOG.glob("*.py"))
             if not args.only or n in args.only.split(",")]
    out_dir = ROOT / "benchmarks/results/kernels"
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        problem = CATALOG / f"{name}.py"
        result = solve(problem, out_dir / f"{name}_kernel.py", device="cuda", budget=args.budget,
                       progress=lambda m: print(f"  {name}: {m}", flush=True))
        if result.status != "solved":
            rows.append({"problem": name, "status": result.status, "reason": result.reason})
            continue
        default = result.measurement["timing"]["sets"][0]
        t = default["first"]
        moved = bytes_moved(problem)
        bw = moved / (t["kernel"]["median_ms"] * 1e-3)
        rows.append({"problem": name, "status": "solved", "family": result.family,
                     "config": result.config, "verified": result.verification["status"],
                     "shapes": default["shapes"], "kernel_ms": t["kernel"]["median_ms"],
                     "eager_ms": t["eager"]["median_ms"],
                     "compile_ms": t.get("compile", {}).get("median_ms"),
                     "vs_eager": default.get("speedup_vs_eager"),
                     "vs_compile": default.get("speedup_vs_compile"),
                     "bytes": moved, "bandwidth_tb_s": bw / 1e12, "roofline_fraction": bw / peak,
                     "all_sets": [{k: s.get(k) for k in ("input_set", "shapes", "speedup_vs_eager",
                                                         "speedup_vs_compile")}
                                  for s in result.measurement["timing"]["sets"]],
                     "attempts": [a.__dict__ for a in result.attempts]})
    device = torch.cuda.get_device_name(0)
    print(f"\n{device}; copy roofline {peak / 1e12:.2f} TB/s (read + write); default input sets; "
          "medians in ms")
    print(f"{'problem':<18}{'verified':<10}{'kernel':>9}{'eager':>9}{'compile':>9}{'vs eager':>9}"
          f"{'vs comp.':>9}{'TB/s':>7}{'roof':>6}")
    for r in rows:
        if r["status"] != "solved":
            print(f"{r['problem']:<18}{r['status']}: {r['reason'][:90]}")
            continue
        comp = f"{r['compile_ms']:>9.4f}" if r["compile_ms"] else f"{'-':>9}"
        vs_c = f"{r['vs_compile']:>8.2f}x" if r["vs_compile"] else f"{'-':>9}"
        print(f"{r['problem']:<18}{r['verified']:<10}{r['kernel_ms']:>9.4f}{r['eager_ms']:>9.4f}"
              f"{comp}{r['vs_eager']:>8.2f}x{vs_c}{r['bandwidth_tb_s']:>7.2f}"
              f"{r['roofline_fraction']:>6.0%}")
    solved = [r for r in rows if r["status"] == "solved"]
    if solved:
        geo = math.exp(sum(math.log(r["vs_eager"]) for r in solved) / len(solved))
        print(f"geometric mean speedup vs eager: {geo:.2f}x over {len(solved)} problems")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"device": device, "copy_bandwidth_bytes_s": peak,
                                     "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
