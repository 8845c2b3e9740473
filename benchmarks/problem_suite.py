"""The offline coder on a directory of problems: solved, re-checked, verified, origin, speed.

    python benchmarks/problem_suite.py DIR|FILE ... [--device cpu|cuda] [--only template|seed]
                                       [--jobs N] [--sample K] [--out FILE.json] [--resume]

For every problem file (KernelBench form) `solve` runs the offline coder (template search and
the compiler seed). On the CPU the kernel it writes is then measured again from scratch
(`bench`, no cache: "re-checked"); on a GPU nothing is cached, and the winner's own harness run
against eager and torch.compile is that measurement. Prints one row per problem (status,
origin, verification, re-check, the reason in one line for a failure; on a GPU the default
set's speedup vs eager and torch.compile) and a total per directory: solved and correct,
verified, and on a GPU fast_1 (the share correct and strictly faster than torch.compile), the
geometric means, and the problems where a template beat the compiler seed (by the screen's
medians, measured side by side in one process). Writes JSON after every problem, so a stopped
run keeps what it measured and `--resume` goes on from there. On a GPU `--jobs N` runs N jobs
spread over the visible GPUs, several on one card where N is larger: they share the card while
they build, check and compile, and each timed phase has it alone (`tools.bench.gpu_lock`), so
one card's jobs overlap everything but their timings.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.jobs import job_pool  # noqa: E402
from benchmarks.provenance import commit  # noqa: E402

ORIGINS = {"template": ("template",), "seed": ("compiler seed",),
           None: ("template", "compiler seed")}


def one(problem: str, device: str, only: str | None, budget: int) -> dict:
    from kernels.library import solve
    from tools.bench import bench
    start = time.perf_counter()
    # when each step of the solve began (seconds from the start): where a problem's time went
    row = {"problem": problem, "suite": Path(problem).parent.name, "commit": commit(),
           "timeline": []}
    gpu = device == "cuda"

    def mark(step: str) -> None:
        row["timeline"].append([round(time.perf_counter() - start, 1), step])
    with tempfile.TemporaryDirectory(prefix="autodocket-suite-") as tmp:
        out = Path(tmp) / "kernel.py"
        try:
            result = solve(problem, out, device=device, budget=budget, final_check=gpu,
                           origins=ORIGINS[only], progress=mark)
        except Exception as err:  # a crash of ours: say so, never hide it
            row.update(status="crash", reason=f"{type(err).__name__}: {err}")
            return {**row, "seconds": round(time.perf_counter() - start, 1)}
        row.update(status=result.status, origin=result.origin, reason=result.reason,
                   candidates=[a.__dict__ for a in result.attempts])
        winner = next((a for a in result.attempts if result.status == "solved" and
                       (a.origin, a.config) == (result.origin, result.config)), None)
        row["verified"] = winner.verified if winner else None
        if result.status == "solved" and gpu:
            row["rechecked"] = result.measurement["status"]
            row["speedups"] = result.measurement["speedups"]
            row["card"] = (result.measurement.get("device") or {}).get("name")
            row["stages"] = result.measurement.get("stages")  # the winner's harness run
        elif result.status == "solved":
            check = bench(problem, out, device=device, use_cache=False)
            row["rechecked"] = check.status
            if check.status != "correct":
                row["reason"] = "re-check: " + (check.feedback() or check.error or "")[:300]
            row["speedups"] = check.speedups()
    row["seconds"] = round(time.perf_counter() - start, 1)
    return row


def geomean(values: list[float]) -> float | None:
    values = [v for v in values if v]
    return round(math.exp(sum(map(math.log, values)) / len(values)), 3) if values else None


def totals(rows: list[dict]) -> dict:
    ok = [r for r in rows if r["status"] == "solved" and r.get("rechecked") == "correct"]
    first = [(r.get("speedups") or [{}])[0] for r in ok]
    out = {"problems": len(rows), "solved_correct": len(ok),
           "share": round(len(ok) / len(rows), 3) if rows else None,
           "proved": sum(1 for r in ok if r.get("verified") == "proved"),
           "by_origin": {o: sum(1 for r in ok if r.get("origin") == o)
                         for o in ("template", "compiler seed")}}
    if any(s.get("vs_eager") for s in first):
        out["geomean_vs_eager"] = geomean([s.get("vs_eager") for s in first])
        out["geomean_vs_compile"] = geomean([s.get("vs_compile") for s in first])
        out["fast_1"] = round(sum(1 for s in first if (s.get("vs_compile") or 0) > 1.0)
                              / len(rows), 3)
        out["template_beats_seed"] = [Path(r["problem"]).stem for r in rows
                                      if _template_beats_seed(r.get("candidates") or [])]
    return out


def _template_beats_seed(candidates: list[dict]) -> bool:
    """Whether the fastest correct template configuration screened faster than the fastest
    correct compiler-seed tuning (both measured in the same screening process)."""
    best = {o: min((c["screen_ms"] for c in candidates if c.get("origin") == o and
                    c.get("screen") == "ok" and c.get("screen_ms")), default=None)
            for o in ("template", "compiler seed")}
    return None not in best.values() and best["template"] < best["compiler seed"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dirs", nargs="+", type=Path, help="problem directories or files")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--only", choices=["template", "seed"], default=None)
    ap.add_argument("--budget", type=int, default=4, help="configurations per template (GPU)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--sample", type=int, default=None, help="K problems per directory, "
                    "drawn with a fixed seed")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" /
                    "problem_suite.json")
    ap.add_argument("--resume", action="store_true", help="keep the rows --out holds and "
                    "solve only the problems it lacks")
    args = ap.parse_args()
    problems = []
    for d in args.dirs:
        files = [str(d)] if d.is_file() else sorted(
            str(p) for p in d.glob("*.py") if not p.name.startswith(("_", "check")))
        if args.sample and args.sample < len(files):
            files = sorted(random.Random(0).sample(files, args.sample))
        problems += files
    args.out.parent.mkdir(parents=True, exist_ok=True)
    card = "cpu (Triton interpreter: correctness only)"
    if args.device == "cuda":
        import torch
        card = torch.cuda.get_device_name(0)
    rows: list[dict] = []
    if args.resume and args.out.is_file():
        rows = json.loads(args.out.read_text())["rows"]
        done = {r["problem"] for r in rows}
        problems = [p for p in problems if p not in done]
        print(f"resuming: {len(done)} problems measured already, {len(problems)} to go")

    def write() -> None:
        suites = sorted({r["suite"] for r in rows})
        args.out.write_text(json.dumps({
            "benchmark": "problem_suite", "card": card, "device": args.device,
            "command": " ".join(sys.argv), "commit": commit(), "only": args.only,
            "totals": {s: totals([r for r in rows if r["suite"] == s]) for s in suites},
            "rows": rows}, indent=1) + "\n")

    with job_pool(args.jobs, args.device) as pool:
        futures = [pool.submit(one, p, args.device, args.only, args.budget) for p in problems]
        for future in futures:
            row = future.result()
            rows.append(row)
            write()
            s = (row.get("speedups") or [{}])[0]
            speed = (f" {s['vs_eager']:.2f}x eager {s['vs_compile'] or 0:.2f}x compile"
                     if s.get("vs_eager") else "")
            print(f"{Path(row['problem']).stem:<40} {row['status']:<11} "
                  f"{row.get('origin') or '-':<14} {row.get('verified') or '-':<9} "
                  f"{row.get('rechecked') or '-':<9}{speed} {row['seconds']:>6.1f}s"
                  + (f"  {(row.get('reason') or '')[:150]}" if row.get("rechecked") !=
                     "correct" else ""), flush=True)
    for suite in sorted({r["suite"] for r in rows}):
        beats = totals([r for r in rows if r["suite"] == suite]).get("template_beats_seed")
        if beats is not None:
            print(f"{suite}: a template beat the compiler seed on {len(beats)}: "
                  f"{', '.join(beats) or 'none'}")
    print(f"\n{'suite':<10} {'problems':>8} {'correct':>8} {'share':>6} {'proved':>6}  origin"
          "  (card: " + card + ")")
    for suite in sorted({r["suite"] for r in rows}):
        t = totals([r for r in rows if r["suite"] == suite])
        extra = (f"  fast_1 {t['fast_1']}, geomean {t['geomean_vs_eager']}x eager, "
                 f"{t['geomean_vs_compile']}x compile" if "fast_1" in t else "")
        print(f"{suite:<10} {t['problems']:>8} {t['solved_correct']:>8} {t['share']:>6} "
              f"{t['proved']:>6}  {t['by_origin']}{extra}")
    print(f"JSON: {args.out}")


if __name__ == "__main__":
    main()
