"""A template author's quick look at one problem on this GPU: every valid configuration of its
template (or the first --limit of them, in the offline search's order), checked against the
reference on the default input set and timed the harness's way (tools.bench.runtime.
time_callables: L2 flushed, medians), next to PyTorch eager. No verifier, no sandbox: the
templates are ours; the offline search (`autodocket solve`) is what proves and measures a
candidate for real.

    python benchmarks/config_sweep.py matmul_bias_gelu [--limit 8] [--repeats 30]
                                      [--json sweep.json]

Prints a table (fastest first) and writes JSON. Needs CUDA.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("problem", help="catalog name or path to a problem file")
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    import torch

    from kernels.library import CATALOG, configs, match, render
    from tools.bench.judge import Rejected, compare
    from tools.bench.runtime import prepare, roofline_of, time_callables
    from tools.problem import load_candidate, load_problem, make_inputs
    from tools.roofline import ceilings
    path = Path(args.problem) if args.problem.endswith(".py") else CATALOG / f"{args.problem}.py"
    problem, found = load_problem(path), match(path)
    if found is None:
        sys.exit(f"error: no template fits {path}")
    dtype = getattr(problem, "DTYPE", None)
    inputs = prepare(make_inputs(problem, None, "cuda"), "cuda", dtype)
    reference = problem.Model(*problem.get_init_inputs()).to("cuda", dtype)
    with torch.no_grad():
        expected = reference(*inputs)
    peak = ceilings()
    rows, scratch = [], Path(tempfile.mkdtemp())
    eager_ms = time_callables({"eager": reference}, [inputs], args.repeats)["eager"]["median_ms"]
    for i, config in enumerate(configs(found.template, args.limit)):
        source = scratch / f"k{i}.py"
        source.write_text(render(found, config))
        row = {"config": config}
        try:
            kernel = load_candidate(source).ModelNew(*problem.get_init_inputs()).to("cuda", dtype)
            with torch.no_grad():
                got = kernel(*inputs)
            try:  # the harness's own comparison (tolerances, relative L2, NaN = unwritten)
                compare(got, expected, problem.ATOL, problem.RTOL)
                row["correct"] = True
            except Rejected as wrong:
                row["correct"], row["wrong"] = False, f"{wrong.reason}: {wrong.detail}"
            row["median_ms"] = time_callables({"k": kernel}, [inputs],
                                              args.repeats)["k"]["median_ms"]
            row["roofline"], row["roofline_error"] = roofline_of(problem, row["median_ms"], peak)
        except Exception as err:  # a configuration that does not compile or run is a row too
            row["error"] = f"{type(err).__name__}: {str(err).splitlines()[0][:120]}"
        rows.append(row)
        print(f"{i + 1}: {line(row, eager_ms)}", flush=True)
        if args.json:  # after every row: a sweep cut short keeps what it measured
            args.json.write_text(json.dumps({"problem": path.stem, "eager_ms": eager_ms,
                                             "card": torch.cuda.get_device_name(0),
                                             "rows": rows}, indent=1))
    print(f"\n{path.stem} on {torch.cuda.get_device_name(0)}: eager {eager_ms:.4f} ms; "
          f"medians of {args.repeats}, default input set; fastest first")
    for row in sorted(rows, key=lambda r: r.get("median_ms") or float("inf")):
        print(f"  {line(row, eager_ms)}")


def line(row: dict, eager_ms: float) -> str:
    if "median_ms" not in row:
        return f"{row['error']:<62} {row['config']}"
    spot = row["roofline"]
    where = f"{spot['fraction_of_ceiling']:5.0%} of the {spot['bound']} ceiling" if spot else \
        f"{'no roofline':<26}"
    verdict = "ok   " if row["correct"] else f"WRONG ({row['wrong'][:60]})"
    return (f"{row['median_ms']:8.4f} ms {eager_ms / row['median_ms']:5.2f}x eager {where} "
            f"{verdict} {row['config']}")


if __name__ == "__main__":
    main()
