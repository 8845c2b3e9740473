"""How the loop scales with workers on one host: tasks per hour and per-kernel timing drift.

    python benchmarks/gpu_scaling.py [--workers 1 2 4] [--tasks 16] [--gpus G] [--device cuda]
                                     [--search-budget 1] [--out FILE.json] [--after FILE.json]

For each N: a fresh lab (a git repository holding a docket of offline-solvable kernel tasks,
the lab's own SQLite database) and N `autodocket worker --drain` processes, worker i on GPU
i mod G (G: the visible GPUs; with N > G workers share cards, and the per-GPU lock gives each
timed phase its card alone). Prints, per N: wall time, tasks per hour, the rate against N times
the one-worker rate, and the drift of each task's kernel median (first input set) from its
median in the first run of the list: a neighbour disturbing the timing shows up there. Writes
JSON. Issue 10's goal: at N = 4 on 4 GPUs, at least 0.9 x N of the one-worker rate.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from git import Repo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.provenance import commit  # noqa: E402
from benchmarks.workers_throughput import synthetic_docket  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# card-wait: seconds a measurement waited for other runs on its card (within the others)
STAGES = ("verify", "reference", "candidate", "sanitizer", "card", "profile", "card-wait")


def branch_records(lab: Path) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """From each branch's evidence: task id -> the kernel's median ms on its first input set,
    and task id -> wall seconds of each stage (verification, the harness's stages, profile)."""
    repo, medians, stages = Repo(lab), {}, {}
    for head in repo.heads:
        if head.name.startswith("autodocket/"):
            task = head.name.split("/", 1)[1]
            ev = json.loads(repo.git.show(f"{head.name}:results/{task}/evidence.json"))
            sets = (ev.get("timing") or {}).get("sets") or []
            if sets:
                medians[task] = sets[0]["first"]["kernel"]["median_ms"]
            stages[task] = {**(ev.get("harness_stages") or {}),
                            "verify": (ev.get("verification") or {}).get("seconds"),
                            "profile": (ev.get("profile") or {}).get("seconds")}
    return medians, stages


def stage_medians(stages: dict[str, dict[str, float]]) -> dict[str, float]:
    """Median seconds per stage over the tasks (where the time of one task goes)."""
    return {k: round(statistics.median(v), 1) for k in STAGES
            if (v := [s[k] for s in stages.values() if s.get(k) is not None])}


def one_run(n: int, n_tasks: int, gpus: int, device: str, search_budget: int,
            logs_dir: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="autodocket-scaling-") as tmp:
        lab = Path(tmp) / "lab"
        lab.mkdir()
        (lab / "DOCKET.md").write_text(synthetic_docket(n_tasks))
        repo = Repo.init(lab, initial_branch="main")
        repo.index.add(["DOCKET.md"])
        repo.index.commit("lab")
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
        env.pop("AUTODOCKET_DATABASE_URL", None)  # the lab's own SQLite
        # a cache of its own: no run starts from the verifier's reports of the one before
        env["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
        start = time.perf_counter()
        procs, log_files = [], []
        for i in range(n):
            where = ["--gpu", str(i % gpus)] if device == "cuda" else ["--device", "cpu"]
            # a file, not a pipe: a run stopped from outside still leaves each worker's progress
            log_files.append(logs_dir / f"N{n}-w{i}.log")
            with log_files[-1].open("w") as log:
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "agents.cli", "worker", *where, "--drain",
                     "--search-budget", str(search_budget), "--name", f"w{i}"], cwd=lab,
                    env=env, stdout=log, stderr=subprocess.STDOUT))
        for p in procs:
            p.wait()
        logs = [f.read_text(errors="replace") for f in log_files]
        wall = time.perf_counter() - start
        medians, stages = branch_records(lab)
        done = sum(1 for h in repo.heads if h.name.startswith("autodocket/"))
        failed = [log for p, log in zip(procs, logs) if p.returncode != 0]
        if failed or done != n_tasks:
            raise SystemExit(f"N={n}: {len(failed)} worker(s) failed, {done}/{n_tasks} tasks "
                             "done\n" + (failed or logs)[0][-3000:])
    return {"workers": n, "gpus_used": min(n, gpus) if device == "cuda" else 0,
            "tasks": n_tasks, "wall_s": round(wall, 1),
            "tasks_per_hour": round(n_tasks / wall * 3600, 1), "kernel_median_ms": medians,
            "stage_median_s": stage_medians(stages), "stage_s": stages}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--tasks", type=int, default=16)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--gpus", type=int, default=None, help="GPUs to spread workers over "
                    "(default: all visible)")
    ap.add_argument("--search-budget", type=int, default=1)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" /
                    "gpu_scaling.json")
    ap.add_argument("--after", type=Path, default=None, help="a JSON this script wrote "
                    "earlier on the same card (say the N=1 run of an earlier call, when one "
                    "call cannot hold every run): its runs come first, the first is the baseline")
    args = ap.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    gpus, card = 0, "cpu"
    if args.device == "cuda":
        import torch
        gpus = args.gpus or torch.cuda.device_count()
        card = torch.cuda.get_device_name(0)
    rows = json.loads(args.after.read_text())["rows"] if args.after else []
    if rows and any(r["tasks"] != args.tasks for r in rows):
        raise SystemExit(f"{args.after}: its runs drained another number of tasks")
    for n in args.workers:
        rows.append(one_run(n, args.tasks, gpus, args.device, args.search_budget,
                            args.out.parent))
        print(f"N={n}: {rows[-1]['wall_s']} s, where one task's time goes: "
              f"{rows[-1]['stage_median_s']}", file=sys.stderr, flush=True)
        write(args, card, gpus, rows)
    table(args, card, rows)


def write(args, card: str, gpus: int, rows: list[dict]) -> None:
    """The JSON after every run (a run stopped later keeps what came before)."""
    base = rows[0]
    for r in rows:
        r["rate_vs_ideal"] = round(r["tasks_per_hour"] / (base["tasks_per_hour"] * r["workers"]
                                                          / base["workers"]), 2)
        drift = [r["kernel_median_ms"][t] / base["kernel_median_ms"][t] - 1
                 for t in base["kernel_median_ms"] if t in r["kernel_median_ms"]]
        r["median_abs_drift_pct"] = round(100 * statistics.median(map(abs, drift)), 1) \
            if drift else None
        r["max_abs_drift_pct"] = round(100 * max(map(abs, drift)), 1) if drift else None
    doc = {"benchmark": "gpu_scaling", "card": card, "gpus": gpus, "device": args.device,
           "command": " ".join(sys.argv), "commit": commit(),
           "leases": "SQLite: each lab's own database file, workers on one host",
           "rows": rows}
    args.out.write_text(json.dumps(doc, indent=2) + "\n")


def table(args, card: str, rows: list[dict]) -> None:
    base = rows[0]
    print(f"{'workers':>7} {'gpus':>4} {'tasks':>5} {'wall s':>7} {'tasks/h':>8} "
          f"{'vs ideal':>8} {'drift med %':>11} {'drift max %':>11}")
    for r in rows:
        print(f"{r['workers']:>7} {r['gpus_used']:>4} {r['tasks']:>5} {r['wall_s']:>7} "
              f"{r['tasks_per_hour']:>8} {r['rate_vs_ideal']:>8} "
              f"{str(r['median_abs_drift_pct']):>11} {str(r['max_abs_drift_pct']):>11}")
    print("where one task's time goes (median seconds over the tasks):")
    for r in rows:
        print(f"  N={r['workers']}: " + ", ".join(f"{k} {v}" for k, v in
                                              r["stage_median_s"].items()))
    print(f"(card: {card}; drift: each task's kernel median vs the N="
          f"{base['workers']} run; JSON: {args.out})")


if __name__ == "__main__":
    main()
