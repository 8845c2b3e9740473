"""Throughput of N workers sharing one docket through PostgreSQL and a bare git remote.

    python benchmarks/workers_throughput.py [--workers 1 2 4] [--tasks 12]
                                            [--pg postgresql://postgres@127.0.0.1/postgres]
                                            [--device cpu] [--out FILE.json]

For each N: a fresh database, a bare repository as the shared remote holding a docket of
offline-solvable kernel tasks, N clones (one per worker, as on N rigs), and N `autodocket
worker --drain` processes. Prints wall time and tasks per minute per N, and writes JSON. On the
CPU the work is Triton's interpreter and the verifier, so N beyond the core count cannot help.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from git import Repo

ROOT = Path(__file__).resolve().parents[1]
KINDS = ["Fused Row Softmax", "Fused Bias + GELU", "RMSNorm with Residual", "SwiGLU Gate",
         "LayerNorm Forward"]


def synthetic_docket(n: int) -> str:
    """n offline-solvable kernel tasks (the catalog planner matches each title)."""
    return "# Lab\n\n## Pending Tasks\n" + "".join(
        f"- [ ] **{KINDS[i % len(KINDS)]} {i + 1}**: a Triton kernel for it.\n" for i in range(n))


def shared_lab(root: Path, n_tasks: int, n_clones: int) -> tuple[Path, list[Path]]:
    """A bare remote holding the docket on main, and one clone per worker."""
    remote = root / "shared.git"
    Repo.init(remote, bare=True, initial_branch="main")
    seed = Repo.init(root / "seed", initial_branch="main")
    (root / "seed" / "DOCKET.md").write_text(synthetic_docket(n_tasks))
    seed.index.add(["DOCKET.md"])
    seed.index.commit("lab")
    seed.create_remote("origin", str(remote)).push("main:main")
    return remote, [Path(Repo.clone_from(str(remote), root / f"rig{i}").working_tree_dir)
                    for i in range(n_clones)]


def worker_command(name: str, database: str, device: str, lease_s: float = 60) -> list[str]:
    return [sys.executable, "-m", "agents.cli", "worker", "--device", device, "--database",
            database, "--remote", "origin", "--drain", "--lease-seconds", str(lease_s),
            "--name", name]


def fresh_database(admin: str) -> str:
    import psycopg
    name = f"autodocket_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return admin.rsplit("/", 1)[0] + "/" + name


def drop_database(admin: str, url: str) -> None:
    import psycopg
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")


def one_run(n_workers: int, n_tasks: int, admin: str, device: str) -> dict:
    url = fresh_database(admin)
    try:
        with tempfile.TemporaryDirectory(prefix="autodocket-workers-") as tmp:
            remote, clones = shared_lab(Path(tmp), n_tasks, n_workers)
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            start = time.perf_counter()
            procs = [subprocess.Popen(worker_command(f"w{i}", url, device), cwd=c, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                      text=True) for i, c in enumerate(clones)]
            logs = [p.communicate()[0] for p in procs]
            wall = time.perf_counter() - start
            branches = [h.name for h in Repo(remote).heads if h.name.startswith("autodocket/")]
            failed = [log for p, log in zip(procs, logs) if p.returncode != 0]
            if failed or len(branches) != n_tasks:
                raise SystemExit(f"N={n_workers}: {len(failed)} worker(s) failed, "
                                 f"{len(branches)}/{n_tasks} branches\n" +
                                 (failed or logs)[0][-3000:])
    finally:
        drop_database(admin, url)
    return {"workers": n_workers, "tasks": n_tasks, "wall_s": round(wall, 1),
            "tasks_per_min": round(n_tasks / wall * 60, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--tasks", type=int, default=12)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" /
                    "workers_throughput.json")
    args = ap.parse_args()
    rows = []
    for n in args.workers:
        rows.append(one_run(n, args.tasks, args.pg, args.device))
        print(f"N={n}: {rows[-1]['wall_s']} s", file=sys.stderr)
    base = rows[0]["tasks_per_min"]
    for r in rows:
        r["speedup_vs_first"] = round(r["tasks_per_min"] / base, 2)
    doc = {"benchmark": "workers_throughput", "device": args.device, "cpus": os.cpu_count(),
           "machine": platform.node(), "command": " ".join(sys.argv), "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    first = f"vs N={rows[0]['workers']}"
    print(f"{'workers':>7} {'tasks':>5} {'wall s':>7} {'tasks/min':>9} {first:>7}")
    for r in rows:
        print(f"{r['workers']:>7} {r['tasks']:>5} {r['wall_s']:>7} {r['tasks_per_min']:>9} "
              f"{r['speedup_vs_first']:>6}x")
    print(f"({os.cpu_count()} CPUs, device {args.device}; JSON: {args.out})")


if __name__ == "__main__":
    main()
