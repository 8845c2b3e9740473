"""What the sandbox costs per run: the same child with and without bubblewrap.

    python benchmarks/sandbox_overhead.py [--runs 20] [--json OUT.json]

Times `python -c pass` and `python -c "import torch"` as plain child processes (an allowlisted
environment, no namespaces) and inside `tools.sandbox.Sandbox` (bubblewrap: namespaces,
read-only system, scratch, watchers, pids cgroup where there is one), interleaved, and prints
the medians and the difference, the sandbox's own cost per run. Goal: under 100 ms.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    from tools.sandbox import Sandbox, allowed_env

    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = []
    for label, code in (("python -c pass", "pass"), ("python -c 'import torch'", "import torch")):
        plain, boxed = [], []
        for _ in range(args.runs):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], env=allowed_env(), check=True)
            plain.append(time.perf_counter() - start)
            start = time.perf_counter()
            box = Sandbox(timeout=120)
            result = box.run(["-c", code])
            box.close()
            boxed.append(time.perf_counter() - start)
            assert result.ok and result.sandboxed, result
        row = {"child": label, "runs": args.runs,
               "plain_median_ms": 1000 * statistics.median(plain),
               "sandboxed_median_ms": 1000 * statistics.median(boxed)}
        row["overhead_ms"] = row["sandboxed_median_ms"] - row["plain_median_ms"]
        rows.append(row)
        if args.json:
            args.json.write_text(json.dumps({"isolation": result.isolation, "rows": rows},
                                            indent=1))
    print(f"sandbox: {', '.join(result.isolation)}")
    print(f"{'child':28} {'plain ms':>9} {'sandboxed ms':>13} {'overhead ms':>12}")
    for row in rows:
        print(f"{row['child']:28} {row['plain_median_ms']:9.1f} {row['sandboxed_median_ms']:13.1f} "
              f"{row['overhead_ms']:12.1f}")


if __name__ == "__main__":
    main()
