"""How fast the docket engine reads and rewrites a large docket.

    python benchmarks/docket_speed.py [--tasks 10000] [--repeats 20] [--json out.json]

Goal (issue 2): a 10,000-task docket parses and rewrites in under 100 ms. Prints a table of
medians over the repeats and writes JSON.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import docket


def make_docket(n: int) -> str:
    out = ["# Laboratory Research Docket\n", "\n", "## Pending Tasks\n"]
    for i in range(n):
        box = "x" if i % 3 else " "
        out.append(f"- [{box}] **Experiment {i}: fused kernel variant**: Measure variant {i} "
                   f"of the fused softmax against torch.compile on the H100. (2026-02-{i % 28 + 1:02d})\n")
        if i % 10 == 0:
            out.append(f"  - result: {1 + i % 7 / 10:.2f}x vs eager (results/exp-{i}/evidence.json)\n")
    return "".join(out)


def timed(fn, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/docket_speed.json"))
    args = ap.parse_args()

    text = make_docket(args.tasks)
    parsed = docket.parse(text)
    assert len(parsed.tasks) == args.tasks and parsed.render() == text
    target = parsed.tasks[args.tasks // 2].id

    def tick_and_render():
        d = docket.parse(text)
        d.tick(target, evidence="1.50x vs eager (results/x/evidence.json)")
        return d.render()

    rows = {
        "parse": timed(lambda: docket.parse(text), args.repeats),
        "render": timed(parsed.render, args.repeats),
        "parse + render": timed(lambda: docket.parse(text).render(), args.repeats),
        "parse + tick + render": timed(tick_and_render, args.repeats),
    }
    print(f"docket of {args.tasks} tasks, {len(text) / 1e6:.1f} MB, median of {args.repeats} "
          f"runs, {platform.python_implementation()} {platform.python_version()}")
    print(f"{'step':<24}{'ms':>10}")
    for name, ms in rows.items():
        print(f"{name:<24}{ms:>10.1f}")
    goal = rows["parse + tick + render"] < 100
    print(f"goal (parse + rewrite < 100 ms): {'met' if goal else 'NOT met'}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"tasks": args.tasks, "bytes": len(text),
                                     "median_ms": rows, "goal_met": goal}, indent=2))


if __name__ == "__main__":
    main()
