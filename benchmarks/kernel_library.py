"""The kernel library on this GPU: offline coder on every catalog problem, side by side with
PyTorch eager and torch.compile, placed on the card's measured roofline (tools/roofline.py:
copy bandwidth for memory-bound problems, the cuBLAS bf16 rate for compute-bound ones).

    python benchmarks/kernel_library.py [--budget 3] [--only softmax,swiglu] [--jobs 1]
                                        [--json benchmarks/results/kernels.json]
    python benchmarks/kernel_library.py --table RUN.json [RUN2.json ...]

Prints a table (medians from one run per problem: kernel, eager, compile, speedups, achieved
bandwidth or TFLOP/s, fraction of the binding ceiling; for problems with a Linear also cuBLAS
on the matmul alone; for attention also sequence 16k beside SDPA, in TFLOP/s), then every input
set's speedup vs torch.compile, and writes JSON as each problem ends (with its wall seconds,
when each step of its solve began, and its winner's harness stages) and how each card was used
over the run (every hold on it logged: timed alone, shared by untimed work, free, and how long
requests waited). `--jobs N`: N problems at once, dealt over the GPUs (several on one card
share it; each timed phase has it alone).
Needs CUDA; `--table` does not.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
import traceback
from concurrent.futures import as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.jobs import job_pool  # noqa: E402
from benchmarks.provenance import commit  # noqa: E402
from tools.bench import CARD_LOG, card_log_summary  # noqa: E402

SLOWEST = ("gqa_causal_attention", "matmul_bias_gelu", "log_softmax", "softmax")


def matmul_alone_ms(problem, repeats: int) -> float:
    """cuBLAS on the problem's matmul without its epilogue (x @ weight^T; the catalog's linear
    problems take the weight as their second input), timed the harness's way."""
    import torch

    from tools.bench import gpu_lock
    from tools.bench.runtime import prepare, time_callables
    from tools.problem import make_inputs
    with gpu_lock("cuda", "alone"):  # its inputs too are made on the card
        x, weight = prepare(make_inputs(problem, None, "cuda")[:2], "cuda", problem.DTYPE)
        timing = time_callables({"mm": lambda a, w_t: torch.mm(a, w_t)}, [[x, weight.t()]],
                                repeats)
    return timing["mm"]["median_ms"]


def attention_at_16k(kernel_path: Path, repeats: int) -> dict:
    """The attention kernel the search chose, at sequence 16k (batch 1, 32 query heads on 8 KV
    heads, head dim 128) beside the problem's reference (SDPA), timed the harness's way: each
    one's TFLOP/s (causal: half the products of q k^T and p v) and the largest difference from
    SDPA there. Our own template's code, run in this process like the screen's."""
    import torch

    from kernels.library import CATALOG
    from tools.bench import gpu_lock
    from tools.bench.runtime import time_callables
    from tools.problem import load_module, load_problem
    batch, seq, heads, dim = 1, 16384, 32, 128
    problem = load_problem(CATALOG / "gqa_causal_attention.py")
    with gpu_lock("cuda"):  # untimed work on the card (the 16k compile, the comparison)
        kernel = load_module(kernel_path, "autodocket_attention_kernel").ModelNew().cuda()
        reference = problem.Model().cuda()
        torch.manual_seed(0)
        q, k, v = (x.to("cuda", problem.DTYPE) for x in problem.get_inputs(batch=batch,
                                                                            seq=seq))
        with torch.no_grad():
            error = (kernel(q, k, v).float() - reference(q, k, v).float()).abs().max().item()
    with gpu_lock("cuda", "alone"):
        timing = time_callables({"kernel": kernel, "sdpa": reference}, [[q, k, v]], repeats)
    flops = 4 * batch * heads * seq * seq * dim / 2
    row = {"shape": [batch, heads, seq, dim], "max_abs_err_vs_sdpa": error}
    for name in ("kernel", "sdpa"):
        row[f"{name}_ms"] = timing[name]["median_ms"]
        row[f"{name}_tflops"] = flops / (timing[name]["median_ms"] * 1e-3) / 1e12
    row["vs_sdpa"] = row["sdpa_ms"] / row["kernel_ms"]
    return row


def solved_row(name: str, result, problem) -> dict:
    """One solved problem's row: the winner's final measurement (its roofline position comes
    with it from the harness) and, for a linear problem, cuBLAS on the matmul alone."""
    default = result.measurement["timing"]["sets"][0]
    t = default["first"]
    mm_ms = matmul_alone_ms(problem, 100) if result.family == "matmul" else None
    return {"problem": name, "status": "solved", "family": result.family,
            "config": result.config, "verified": result.verification["status"],
            "shapes": default["shapes"], "kernel_ms": t["kernel"]["median_ms"],
            "eager_ms": t["eager"]["median_ms"],
            "compile_ms": t.get("compile", {}).get("median_ms"),
            "vs_eager": default.get("speedup_vs_eager"),
            "vs_compile": default.get("speedup_vs_compile"),
            "cublas_matmul_alone_ms": mm_ms,
            "vs_cublas_matmul_alone": mm_ms / t["kernel"]["median_ms"] if mm_ms else None,
            "roofline": result.measurement["roofline"],
            "all_sets": [{**{k: s.get(k) for k in ("input_set", "shapes", "speedup_vs_eager",
                                                   "speedup_vs_compile", "flags")},
                          **{f"{timed}_{q}_ms": s["first"][timed][f"{q}_ms"]
                             for timed in ("kernel", "eager", "compile") if timed in s["first"]
                             for q in ("median", "p20", "p80")},
                          "launch_bound": {timed: t.get("launch_bound")
                                           for timed, t in s["first"].items()}}
                         for s in result.measurement["timing"]["sets"]],
            "attempts": [a.__dict__ for a in result.attempts]}


def one(name: str, budget: int) -> dict:
    """One catalog problem through the offline coder: its row."""

    from kernels.library import CATALOG, solve
    from tools.problem import load_problem
    start = time.perf_counter()
    problem = CATALOG / f"{name}.py"
    timeline = []  # when each step of the solve began (seconds from the start)

    def mark(step: str) -> None:
        timeline.append([round(time.perf_counter() - start, 1), step])
        print(f"  {name} {timeline[-1][0]:>6.1f} s: {step}", flush=True)
    out_dir = ROOT / "benchmarks/results/kernels"
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        result = solve(problem, out_dir / f"{name}_kernel.py", device="cuda", budget=budget,
                       progress=mark)
        row = solved_row(name, result, load_problem(problem)) if result.status == "solved" \
            else {"problem": name, "status": result.status, "reason": result.reason}
        if name == "gqa_causal_attention" and result.status == "solved":
            mark("attention at sequence 16k beside SDPA")
            row["at_16k"] = attention_at_16k(out_dir / f"{name}_kernel.py", 30)
        # the winner's harness stages (reference, candidate, card-wait ...): where time went
        row["stages"] = (result.measurement or {}).get("stages")
    except Exception as err:  # a crash of ours: said in its row, the other problems go on
        row = {"problem": name, "status": "crash", "reason": f"{type(err).__name__}: {err}",
               "traceback": traceback.format_exc()[-3000:]}
    return {**row, "timeline": timeline, "seconds": round(time.perf_counter() - start, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=int, default=3)
    ap.add_argument("--only", default="")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/kernels.json")
    ap.add_argument("--table", type=Path, nargs="+", metavar="RUN.json",
                    help="print the table of earlier runs' JSON instead (no GPU needed)")
    args = ap.parse_args()
    if args.table:
        return tables(args.table)
    import torch
    if not torch.cuda.is_available():
        print("no CUDA device here: the kernel benchmark needs a GPU", file=sys.stderr)
        sys.exit(1)
    from kernels.library import CATALOG
    from tools.roofline import ceilings
    peak = ceilings()  # the bench children get it from the cache it leaves
    device = torch.cuda.get_device_name(0)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    catalog = sorted(p.stem for p in CATALOG.glob("*.py"))
    names = [n for n in args.only.split(",") if n in catalog] if args.only else catalog
    # the slowest searches (most configurations, largest compiles) start first
    names.sort(key=lambda n: n not in SLOWEST)
    start = time.perf_counter()
    # every hold on the card, by every job's processes: where the card's time went
    card_log = Path(tempfile.mkdtemp(prefix="autodocket-card-")) / "holds.jsonl"
    os.environ[CARD_LOG] = str(card_log)

    def write() -> None:  # after every problem: a cut run keeps its rows
        args.json.write_text(json.dumps({
            "device": device, "command": " ".join(sys.argv), "commit": commit(),
            "jobs": args.jobs, "wall_s": round(time.perf_counter() - start, 1),
            "ceilings": peak, "card": card_log_summary(card_log), "rows": rows}, indent=2))
    with job_pool(args.jobs, "cuda") as pool:
        for done in as_completed([pool.submit(one, n, args.budget) for n in names]):
            rows.append(done.result())
            rows.sort(key=lambda r: r["problem"])
            write()
    wall = time.perf_counter() - start
    print_table(device, peak, rows)
    print(f"\n{len(rows)} problems, budget {args.budget}, {args.jobs} job(s): {wall:.0f} s wall "
          f"({sum(r['seconds'] for r in rows):.0f} s of problem time)")
    print(card_line(card_log_summary(card_log)))
    shutil.rmtree(card_log.parent, ignore_errors=True)


def card_line(cards: dict | None) -> str:
    """Each card over a run, a line each (`tools.bench.card_log_summary`)."""
    if not cards:
        return "the card: no holds were logged"
    lines = []
    for gpu, c in cards.items():
        timed, untimed = c["waits"]["alone"], c["waits"]["shared"]
        lines.append(f"GPU {gpu} over {c['span_s']:.0f} s: timed alone {c['alone_s']:.0f} s, "
                     f"shared by untimed work only {c['shared_only_s']:.0f} s, free "
                     f"{c['free_s']:.0f} s; {timed['count']} requests to time waited "
                     f"{timed['median_s']} s median, {timed['max_s']} s at most; "
                     f"{untimed['count']} untimed holds waited {untimed['median_s']} s median, "
                     f"{untimed['max_s']} s at most")
    return "\n".join(lines)


def print_table(device: str, peak: dict, rows: list[dict]) -> None:
    print(f"\n{device}; ceilings: copy {peak['copy_bytes_per_s'] / 1e12:.2f} TB/s (read + write), "
          f"cuBLAS bf16 {peak['bf16_flops_per_s'] / 1e12:.0f} TFLOP/s; default input sets; "
          "medians in ms")
    print(f"{'problem':<22}{'verified':<10}{'kernel':>9}{'eager':>9}{'compile':>9}{'vs eager':>9}"
          f"{'vs comp.':>9}{'achieved':>14}{'roof':>6}")
    for r in rows:
        if r["status"] != "solved":
            print(f"{r['problem']:<22}{r['status']}: {r['reason'][:90]}")
            continue
        comp = f"{r['compile_ms']:>9.4f}" if r["compile_ms"] else f"{'-':>9}"
        vs_c = f"{r['vs_compile']:>8.2f}x" if r["vs_compile"] else f"{'-':>9}"
        spot = r["roofline"]
        if spot is None:  # the harness could not count the problem's bytes (see its notes)
            achieved, roof = "-", f"{'-':>6}"
        else:
            achieved = f"{spot['flops_per_s'] / 1e12:>8.0f} TF/s" if spot["bound"] == \
                "compute" else f"{spot['bandwidth_bytes_per_s'] / 1e12:>8.2f} TB/s"
            roof = f"{spot['fraction_of_ceiling']:>6.0%}"
        print(f"{r['problem']:<22}{r['verified']:<10}{r['kernel_ms']:>9.4f}{r['eager_ms']:>9.4f}"
              f"{comp}{r['vs_eager']:>8.2f}x{vs_c}{achieved:>14}{roof}")
        if r.get("at_16k"):
            a = r["at_16k"]
            print(f"{'':<22}at sequence 16k {a['shape']}: kernel {a['kernel_ms']:.3f} ms "
                  f"{a['kernel_tflops']:.0f} TFLOP/s, SDPA {a['sdpa_ms']:.3f} ms "
                  f"{a['sdpa_tflops']:.0f} TFLOP/s: {a['vs_sdpa']:.2f}x SDPA "
                  f"(max abs difference {a['max_abs_err_vs_sdpa']:.1e})")
        if r["cublas_matmul_alone_ms"]:
            print(f"{'':<22}cuBLAS matmul alone {r['cublas_matmul_alone_ms']:.4f} ms: the fused "
                  f"kernel runs at {r['vs_cublas_matmul_alone']:.2f}x its speed")
    solved = [r for r in rows if r["status"] == "solved"]
    if solved:
        geo = math.exp(sum(math.log(r["vs_eager"]) for r in solved) / len(solved))
        print(f"geometric mean speedup vs eager: {geo:.2f}x over {len(solved)} problems")
    print("\nvs torch.compile on every input set (shapes of the first input):")
    for r in solved:
        print(f"{r['problem']:<22}" + "  ".join(
            f"{'x'.join(map(str, (s['shapes'] or [[]])[0]))}: "
            + (f"{s['speedup_vs_compile']:.2f}x" if s.get("speedup_vs_compile") else "-")
            for s in r["all_sets"]))
    slower = [f"{r['problem']} {'x'.join(map(str, s['shapes'][0]))} "
              f"{s['speedup_vs_compile']:.3f}x ({mb:.0f} MB)" + overlap(s) for r in solved
              for s, mb in zip(r["all_sets"], moved_mb(r["problem"]))
              if mb is not None and mb >= 1 and (s.get("speedup_vs_compile") or 0) < 1]
    thin = [f"{r['problem']} {r['roofline']['fraction_of_ceiling']:.0%}" for r in solved
            if r["roofline"] and r["roofline"]["bound"] == "memory" and
            r["roofline"]["fraction_of_ceiling"] < 0.9]
    print(f"\nsets moving at least 1 MB below 1.00x torch.compile: {len(slower)}"
          + "".join(f"\n  {line}" for line in slower))
    print(f"memory-bound below 90% of copy bandwidth on the default set: {len(thin)}"
          + (f" ({', '.join(thin)})" if thin else ""))
    off = [line for line in map(off_its_screen, solved) if line]
    print(f"winners measured more than 5% off their screen or measured twice: {len(off)}"
          + "".join(f"\n  {line}" for line in off))


def overlap(s: dict) -> str:
    """Whether a set's kernel and compile runs overlap between their 20th and 80th percentiles:
    a ratio inside the runs' own spread is a tie, not a slower kernel."""
    if "kernel_p20_ms" not in s or "compile_p20_ms" not in s:
        return ""  # a run from before the percentiles were kept
    if s["kernel_p20_ms"] <= s["compile_p80_ms"] and s["compile_p20_ms"] <= s["kernel_p80_ms"]:
        return " [p20-p80 overlap compile's: a tie]"
    return ""


def off_its_screen(row: dict) -> str | None:
    """The winner timed in the screen's process and in its own fresh ones, on its default set:
    a gap between the two is the card or the host disturbing one of them. The search measures
    a winner more than 5% off its screen, or rejected for its timing alone, once more: every
    measurement is said."""
    winner = next((a for a in row["attempts"] if a.get("median_ms") is not None
                   and a.get("screen_ms") and a["config"] == row["config"]), None)
    if winner is None:
        return None
    screen, before = winner["screen_ms"], winner.get("measured_before") or []
    if not before and abs(row["kernel_ms"] / screen - 1) <= 0.05:
        return None
    said = "".join(f"rejected for {', '.join(m['rejected'])}, again " if m["rejected"] else
                   f"{m['median_ms']:.4f} ms ({m['median_ms'] / screen - 1:+.0%}), again "
                   for m in before)
    return (f"{row['problem']} its screen {screen:.4f} ms; measured {said}"
            f"{row['kernel_ms']:.4f} ms ({row['kernel_ms'] / screen - 1:+.0%})")


def moved_mb(name: str) -> list[float | None]:
    """The MB each input set's reference reads and writes (tools.roofline, on meta tensors):
    the sets under 1 MB are mostly launch latency, reported but not gated."""
    from kernels.library import CATALOG
    from tools.problem import input_sets, load_problem
    from tools.roofline import moved_bytes
    problem = load_problem(CATALOG / f"{name}.py")
    sizes = [moved_bytes(problem, spec) for _, spec in input_sets(problem)]
    return [size / 1e6 if size is not None else None for size in sizes]


def tables(files: list[Path]) -> None:
    """The table again from runs' JSON (no GPU needed): their rows together, a later file's
    row replacing an earlier one's for the same problem (a run cut short, finished by another
    with --only)."""
    runs = []
    for f in files:
        try:
            run = json.loads(f.read_text())
        except (OSError, ValueError) as err:
            run = f"{type(err).__name__}: {err}"
        if not isinstance(run, dict) or not isinstance(run.get("rows"), list):
            print(f"{f}: not a kernel_library run's JSON"
                  + (f" ({run})" if isinstance(run, str) else ""), file=sys.stderr)
            sys.exit(2)
        runs.append(run)
    rows = {r["problem"]: r for run in runs for r in run["rows"]}
    print_table(runs[-1]["device"], runs[-1]["ceilings"], sorted(rows.values(),
                                                                key=lambda r: r["problem"]))
    for f, run in zip(files, runs):
        print(f"{f}: {len(run['rows'])} problems, {run['command']}, commit {run['commit']}, "
              f"{run['wall_s']:.0f} s wall ({sum(r['seconds'] for r in run['rows']):.0f} s of "
              "problem time)")
        if "card" in run:  # runs since the card's holds were logged
            print(f"  {card_line(run['card'])}")


if __name__ == "__main__":
    main()
