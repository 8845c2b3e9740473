"""How fast the lab page renders for a large lab: 500 docket tasks, 100 open pull requests.

    python benchmarks/lab_page_speed.py [--tasks 500] [--prs 100] [--repeats 20] [--out FILE]

Builds the lab (a git repository: the docket, one autodocket/<task> branch per pull request
holding an H200 run's record, report and chart; task statuses in the lab's SQLite database;
the docket's facts in the knowledge graph), then times each page through the app in process
(Starlette's test client: rendering, git and database work, no network): the first request
after a server start (cold: a new app and git reader, nothing remembered, in an interpreter that
has imported the modules; median and worst of --starts starts) and the median of the next ones
(warm).
Prints a table; writes JSON. The issue's goal: under 200 ms.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
EVIDENCE = ROOT / "benchmarks/measured/h200-loop-faithful/fused-row-softmax.evidence.json"
GOAL_MS = 200


def git(cwd: Path, *args: str) -> None:
    done = subprocess.run(["git", "-c", "user.name=bench", "-c",
                           "user.email=bench@example.invalid", *args], cwd=cwd,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"git {' '.join(args)}: {done.stderr.strip()}")


def build_lab(root: Path, n_tasks: int, n_prs: int) -> Path:
    from agents.config import find_lab
    from agents.report import report_markdown, speedup_chart
    lab = root / "lab"
    lab.mkdir()
    lines = ["# Large lab", "", "## Pending Tasks"]
    lines += [f"- [ ] **Row softmax variant {i}**: a Triton row softmax for bf16 activations "
              f"({1024 + i} x 4096) that beats torch.compile by 1.{i % 10}x." for i in range(n_tasks)]
    (lab / "DOCKET.md").write_text("\n".join(lines) + "\n")
    git(lab, "init", "-q", "-b", "main")
    git(lab, "add", "-A")
    git(lab, "commit", "-q", "-m", "lab")
    found = find_lab(lab / "DOCKET.md")
    import docket as docket_mod
    tasks = docket_mod.load(found.docket_path).tasks
    ev = json.loads(EVIDENCE.read_text())
    chart = speedup_chart(ev["timing"])
    problem = (ROOT / "kernels/problems/softmax.py").read_text()
    store = found.store()
    for task in tasks[:n_prs]:
        git(lab, "checkout", "-q", "-b", f"autodocket/{task.id}", "main")
        rid = lab / "results" / task.id
        rid.mkdir(parents=True)
        record = {**ev, "task": {**ev["task"], "id": task.id, "title": task.title,
                                 "line": task.line}}
        (rid / "evidence.json").write_text(json.dumps(record, indent=2))
        (rid / "REPORT.md").write_text(report_markdown(record, has_chart=True))
        (rid / "speedup.png").write_bytes(chart)
        (rid / "problem.py").write_text(problem)
        (rid / "kernel.py").write_text(problem.replace("Model", "ModelNew"))
        git(lab, "add", "results")
        git(lab, "commit", "-q", "-m", f"{task.id}: measured")
        store.set(task.id, "awaiting-review", f"branch autodocket/{task.id}")
    git(lab, "checkout", "-q", "main")
    subprocess.run([sys.executable, "-m", "agents.cli", "kg", "ingest-docket", "DOCKET.md"], cwd=lab,
                   check=True, capture_output=True)
    return lab


def time_pages(lab: Path, first_pr: str, repeats: int, starts: int) -> list[dict]:
    from starlette.testclient import TestClient

    import agents.lab_view as lab_view
    from agents.web import create_app
    pages = {"pull requests": "/prs", "one pull request": f"/prs/{first_pr}/",
             "docket": "/docket", "knowledge search": "/kg?q=softmax"}
    rows = []
    for name, url in pages.items():
        cold, warm = [], []
        for start_no in range(starts):
            for remembered in (lab_view._evidence, lab_view._merges, lab_view._repos):
                remembered.clear()  # cold: as a server finds the lab after it starts
            client = TestClient(create_app(lab / "DOCKET.md"))
            for i in range(1 + (repeats if start_no == 0 else 0)):
                start = time.perf_counter()
                response = client.get(url)
                (warm if i else cold).append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, (url, response.status_code)
        rows.append({"page": name, "url": url, "cold_median_ms": round(statistics.median(cold), 1),
                     "cold_max_ms": round(max(cold), 1),
                     "warm_median_ms": round(statistics.median(warm), 1),
                     "bytes": len(response.content),
                     "under_goal": statistics.median(warm) < GOAL_MS and
                     statistics.median(cold) < GOAL_MS})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=500)
    ap.add_argument("--prs", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=20, help="warm requests a page")
    ap.add_argument("--starts", type=int, default=5, help="server starts a page (cold)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/lab_page_speed.json")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="autodocket-page-") as tmp:
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
        start = time.perf_counter()
        lab = build_lab(Path(tmp), args.tasks, args.prs)
        built = time.perf_counter() - start
        import docket as docket_mod
        first = docket_mod.load(lab / "DOCKET.md").tasks[0].id
        rows = time_pages(lab, first, args.repeats, args.starts)
    doc = {"benchmark": "lab_page_speed", "machine": f"{platform.machine()}, "
           f"{os.cpu_count()} cores", "tasks": args.tasks, "prs": args.prs,
           "repeats": args.repeats, "starts": args.starts, "goal_ms": GOAL_MS, "build_s": round(built, 1),
           "command": " ".join(["benchmarks/lab_page_speed.py", *sys.argv[1:]]), "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2))
    print(f"lab: {args.tasks} tasks, {args.prs} open pull requests ({doc['machine']})")
    print(f"{'page':<18} {'cold ms':>9} {'(max)':>7} {'warm ms':>9} {'KB':>6}  under {GOAL_MS} ms")
    for r in rows:
        print(f"{r['page']:<18} {r['cold_median_ms']:>9.1f} {r['cold_max_ms']:>7.1f} "
              f"{r['warm_median_ms']:>9.1f} {r['bytes'] / 1024:>6.0f}  "
              f"{'yes' if r['under_goal'] else 'NO'}")
    print(f"JSON: {args.out}")


if __name__ == "__main__":
    main()
