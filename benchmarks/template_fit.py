"""Which templates compute what their problem computes: for every problem of the given
directories that a template matches by its operations, the rendered template (default
configuration) against the problem's outputs in the sandbox, as the offline coder checks it
before offering it (the CPU screen: smallest input set, Triton's interpreter).

    python benchmarks/template_fit.py benchmarks/suite/level1 benchmarks/suite/fused [--out F]

Prints a row per matched problem (the family, ok or why not) and the count; writes JSON.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from agents.coder import does_not_reproduce
    from kernels.library import match, offerings
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dirs", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" /
                    "template_fit.json")
    args = ap.parse_args()
    rows = []
    for folder in args.dirs:
        for problem in sorted(folder.glob("[0-9]*.py")):
            if match(problem) is None:
                continue
            offer = next(iter(offerings(problem, "cpu", 1, origins=("template",))))
            why = does_not_reproduce(problem, offer, "cpu")
            rows.append({"problem": str(problem.relative_to(ROOT) if problem.is_relative_to(
                ROOT) else problem), "family": offer.family, "reproduces": why is None,
                "why_not": why})
            print(f"{problem.name:<36} {offer.family:<12} {'ok' if why is None else why[:110]}",
                  flush=True)
    fits = sum(r["reproduces"] for r in rows)
    print(f"{fits} of {len(rows)} matched templates reproduce their problem")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"benchmark": "template_fit", "command": " ".join(sys.argv),
                                    "reproduce": fits, "matched": len(rows), "rows": rows},
                                   indent=1) + "\n")


if __name__ == "__main__":
    main()
