"""The `autodocket` command line.

Exit codes: 0 success; 1 the thing checked failed (nothing to do, unverified claims, ...);
2 bad input or configuration, with a one-line reason on stderr. `--json` prints one JSON
document on stdout and nothing else there.
"""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

import docket as docket_mod
from agents.config import ConfigError, Lab, find_lab
from agents.lab_view import blob, status_of, statuses
from docket.audit import audit as audit_docket
from memory.state import HELD

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Run a lab's Markdown research docket: kernels proved, measured, reviewed.")
console = Console(width=None if sys.stdout.isatty() else 160)

@app.callback()
def _options(unsandboxed: Annotated[bool, typer.Option(
        "--unsandboxed", help="Run agent-written code without bubblewrap where it is missing "
        "(an allowlisted environment and limits only; every report says so).")] = False) -> None:
    if unsandboxed:
        import os

        from tools.sandbox import UNSANDBOXED_ENV
        os.environ[UNSANDBOXED_ENV] = "1"  # workers started from here inherit the choice


DocketOpt = Annotated[Optional[Path], typer.Option("--docket", help="Markdown docket (default: "
                      "[lab] docket in autodocket.toml, else ./DOCKET.md)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]

from memory.kg import KGError  # noqa: E402

USER_ERRORS = (docket_mod.DocketError, ConfigError, KGError)


def _fail(message: str) -> None:
    print(f"autodocket: {message}", file=sys.stderr)
    raise typer.Exit(2)


def user_errors(fn):
    """Bad input becomes one line on stderr and exit 2, never a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as err:
            _fail(str(err))
    return wrapper


def _emit_json(doc) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def _load(docket_path: Path | None) -> tuple[Lab, docket_mod.Docket]:
    lab = find_lab(docket_path)
    return lab, docket_mod.load(lab.docket_path)


@app.command()
@user_errors
def show(docket: DocketOpt = None, json_out: JsonOpt = False) -> None:
    """List the docket's tasks: id, status, section, title."""
    lab, d = _load(docket)
    states = statuses(lab)
    rows = [dict(t.to_dict(), status=status_of(t, states, lab)) for t in d.tasks]
    if json_out:
        _emit_json({"docket": str(lab.docket_path), "tasks": rows,
                    "duplicates": d.duplicates, "warnings": d.warnings})
        return
    table = Table(title=f"{lab.docket_path.name}: {len(rows)} tasks", title_justify="left")
    for col in ("id", "status", "section", "title"):
        table.add_column(col, overflow="fold")
    for r in rows:
        style = {"open": "bold", "done": "green", "checked": "dim"}.get(r["status"], "yellow")
        title = r["title"] + (f"  (duplicate of {r['duplicate_of']})" if r["duplicate_of"] else "")
        table.add_row(r["id"], r["status"], r["section"] or "", title, style=style)
    console.print(table)
    for group in d.duplicates:
        console.print(f"[yellow]duplicate:[/] {' = '.join(group)}")
    for warning in d.warnings:
        console.print(f"[yellow]warning:[/] {warning}")


@app.command("next")
@user_errors
def next_(docket: DocketOpt = None, json_out: JsonOpt = False) -> None:
    """The task the loop would take next (exit 1 when none is left)."""
    lab, d = _load(docket)
    states = statuses(lab)
    task = d.next_task(skip={t for t, r in states.items() if r.status in HELD},
                       done=lab.with_evidence(d))
    if task is None:
        if json_out:
            _emit_json(None)
        else:
            print("nothing left: every task is done, claimed or parked", file=sys.stderr)
        raise typer.Exit(1)
    if json_out:
        _emit_json(task.to_dict())
    else:
        console.print(f"[bold]{task.id}[/]  {task.title}  (line {task.line}"
                      f"{', ' + task.section if task.section else ''})")


@app.command()
@user_errors
def audit(docket: DocketOpt = None, json_out: JsonOpt = False) -> None:
    """Checked tasks and plan rows with no evidence record, and numbers nothing backs."""
    lab, d = _load(docket)
    entries = audit_docket(d, lab.root)
    claims = [c for e in entries for c in e.claims if not c.backed]
    summary = {"tasks": len(d.tasks), "flagged": len(entries),
               "without_evidence": sum(1 for e in entries if e.evidence is None),
               "unverified_claims": len(claims)}
    if json_out:
        _emit_json({"docket": str(lab.docket_path), "summary": summary,
                    "entries": [e.to_dict() for e in entries]})
    else:
        table = Table(title=f"audit of {lab.docket_path.name}", title_justify="left")
        for col in ("line", "id", "unverified numbers", "findings"):
            table.add_column(col, overflow="fold")
        for e in entries:
            table.add_row(str(e.line), e.task_id,
                          ", ".join(c.text for c in e.claims if not c.backed),
                          "; ".join(e.findings))
        console.print(table)
        console.print(f"{summary['flagged']} of {summary['tasks']} tasks flagged: "
                      f"{summary['without_evidence']} without evidence, "
                      f"{summary['unverified_claims']} unverified numbers")
    if entries:
        raise typer.Exit(1)


@app.command()
@user_errors
def scoreboard(docket: DocketOpt = None, json_out: JsonOpt = False) -> None:
    """Every task and plan row against its success criterion: the measured value that decides
    it, and met / not met / not checkable here (why) / no evidence."""
    from agents.scoreboard import rows
    lab, _ = _load(docket)
    board = rows(lab)
    if json_out:
        _emit_json({"docket": str(lab.docket_path), "rows": board})
        return
    table = Table(title=f"scoreboard of {lab.docket_path.name}", title_justify="left")
    for col in ("task", "criterion", "measured", "verdict", "evidence"):
        table.add_column(col, overflow="fold")
    colour = {"met": "green", "not met": "red"}
    for r in board:
        verdict = r["verdict"] + (f": {r['why']}" if r["why"] else "")
        table.add_row(r["ref"] or r["task_id"], r["criterion"] or "-", r["measured"] or "-",
                      f"[{colour[r['verdict']]}]{verdict}[/]" if r["verdict"] in colour
                      else verdict, r["evidence"] or "-")
    console.print(table)
    counts = {}
    for r in board:
        counts[r["verdict"]] = counts.get(r["verdict"], 0) + 1
    console.print(", ".join(f"{n} {v}" for v, n in sorted(counts.items())))


@app.command()
def verify(problem: Path, kernel: Path, json_out: JsonOpt = False,
           no_coverage: Annotated[bool, typer.Option("--no-coverage", help="Skip the check "
                                                     "that every output element is written.")] = False,
           no_cache: Annotated[bool, typer.Option("--no-cache")] = False,
           device: Annotated[str, typer.Option(
               help="where the launches proved are recorded: auto, cpu or cuda (the GPU's "
                    "launches: a persistent grid is the card's)")] = "auto") -> None:
    """Prove a candidate's Triton kernels in bounds and race-free with Z3, over the launches
    it makes on this machine's device (the proof itself runs on the CPU)."""
    from tools.bench import resolve_device
    from tools.verify import verify as run_verify
    from tools.verify import verify_on_card
    try:
        device = resolve_device(device)
    except ValueError as err:
        _fail(str(err))
    if device == "cuda":
        report, recorded = verify_on_card(problem, kernel, researchers_problem=True,
                                          coverage=not no_coverage, use_cache=not no_cache)
        if recorded.status == "error":  # the files or this machine, not the candidate
            _fail(f"the harness could not run: {recorded.error}")
    else:
        report = run_verify(problem, kernel, coverage=not no_coverage, use_cache=not no_cache)
    if json_out:
        _emit_json(report.to_dict())
        raise typer.Exit(report.exit_code)
    if report.status == "error":
        _fail(report.error)
    table = Table(title=f"verify {kernel.name}: {report.status}", title_justify="left")
    for col in ("kernel", "obligation", "access", "status", "ms", "counterexample / reason"):
        table.add_column(col, overflow="fold")
    styles = {"proved": "green", "violated": "bold red", "unknown": "yellow",
              "unsupported": "yellow"}
    for f in report.findings:
        table.add_row(f["kernel"], f["obligation"], f["access"], f["status"],
                      f"{f['seconds'] * 1000:.1f}", f["detail"], style=styles.get(f["status"]))
    console.print(table)
    for line in report.unsupported:
        console.print(f"[yellow]{line}[/]")
    counts = ", ".join(f"{n} {k}" for k, n in sorted(report.counts().items()))
    console.print(f"{counts}; {report.seconds:.2f} s{' (cached)' if report.cached else ''}")
    raise typer.Exit(report.exit_code)


@app.command()
def bench(problem: Path, kernel: Path, json_out: JsonOpt = False,
          device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
          repeats: Annotated[int, typer.Option(help="timed runs per pass (GPU)")] = 100,
          sanitize: Annotated[bool, typer.Option(
              help="also run the smallest input set's trials under compute-sanitizer "
                   "memcheck (GPU)")] = False) -> None:
    """Check a candidate's correctness against its problem and, on a GPU, time it. The problem
    file is yours, so it may declare a tolerance looser than its dtype's usual bound."""
    from tools.bench import bench as run_bench
    try:
        report = run_bench(problem, kernel, device=device, repeats=repeats,
                           researchers_problem=True, sanitize=sanitize)
    except ValueError as err:
        _fail(str(err))
    if json_out:
        _emit_json(report.to_dict())
        raise typer.Exit(report.exit_code)
    if report.status == "error":
        _fail(report.error)
    dev = report.device
    console.print(f"[bold]{kernel.name}[/] on {dev.get('name')} (torch {dev.get('torch')}, "
                  f"triton {dev.get('triton')})")
    if report.correctness:
        table = Table(title="correctness", title_justify="left")
        for col in ("input set", "shapes", "trials", "max abs err", "rel L2 err"):
            table.add_column(col)
        for row in report.correctness:
            if "skipped" in row:
                table.add_row(row["input_set"], "skipped: " + row["skipped"], "-", "-", "-")
                continue
            table.add_row(row["input_set"], str(row["shapes"]), str(row["trials"]),
                          f"{row['max_abs_err']:.2e}", f"{row['rel_l2_err']:.2e}")
        console.print(table)
    if report.timing:
        table = Table(title="timing (ms, median [p20-p80])", title_justify="left")
        for col in ("input set", "kernel", "eager", "compile", "vs eager", "vs compile", "flags"):
            table.add_column(col)
        for s in report.timing["sets"]:
            cells = []
            for name in ("kernel", "eager", "compile"):
                t = s["first"].get(name)
                cells.append(f"{t['median_ms']:.4f} [{t['p20_ms']:.4f}-{t['p80_ms']:.4f}]"
                             if t else "-")
            table.add_row(s["input_set"], *cells,
                          f"{s['speedup_vs_eager']:.2f}x" if s.get("speedup_vs_eager") else "-",
                          f"{s['speedup_vs_compile']:.2f}x" if s.get("speedup_vs_compile") else "-",
                          "; ".join(s["flags"]))
        console.print(table)
    for note in report.notes:
        console.print(f"note: {note}")
    for r in report.rejections:
        console.print(f"[bold red]rejected ({r['reason']}):[/] {r['detail']}")
    console.print(f"{report.status}; {report.seconds:.1f} s")
    raise typer.Exit(report.exit_code)


@app.command()
def solve(problem: Path,
          out: Annotated[Optional[Path], typer.Option("--out", help="where the kernel goes "
                                                      "(default: PROBLEM_kernel.py)")] = None,
          device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
          budget: Annotated[int, typer.Option(help="configurations tried on a GPU")] = 4,
          language: Annotated[str, typer.Option(help="triton, or cuda for the CUDA C++ "
                                                "templates")] = "triton",
          json_out: JsonOpt = False) -> None:
    """Write a kernel for one problem with the offline coder (template search and torch.compile's
    Triton, or the CUDA C++ templates), verify and measure it."""
    from kernels.library import LANGUAGES, solve as run_solve
    if not problem.is_file():
        _fail(f"{problem}: no such file")
    if language not in LANGUAGES:
        _fail(f"--language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    try:
        result = run_solve(problem, out, device=device, budget=budget, language=language,
                           progress=None if json_out else lambda m: console.print(f"[dim]{m}[/]"))
    except (ValueError, SyntaxError) as err:
        _fail(f"{problem}: {err}")
    if json_out:
        _emit_json(result.to_dict())
        raise typer.Exit(result.exit_code)
    if result.status != "solved":
        console.print(f"[bold red]{result.status}:[/] {result.reason}")
        raise typer.Exit(1)
    table = Table(title="offline candidates tried", title_justify="left")
    for col in ("origin", "config", "screen (ms)", "verified", "correct", "kernel ms",
                "reasons"):
        table.add_column(col, overflow="fold")
    for a in result.attempts:
        screened = "-" if a.screen is None else a.screen + (
            f" ({a.screen_ms:.4f})" if a.screen_ms is not None else "")
        table.add_row(a.origin, str(a.config or "-"), screened, a.verified, str(a.correct),
                      f"{a.median_ms:.4f}" if a.median_ms is not None else "-",
                      "; ".join(a.reasons))
    console.print(table)
    m = result.measurement
    console.print(f"kernel: {result.kernel_path}  ("
                  + (f"{result.family} template, config {result.config})"
                     if result.origin == "template" else "torch.compile's Triton, written out)"))
    console.print(f"verification: {result.verification['status']} {result.verification['counts']}")
    for s in m["speedups"]:
        console.print(f"{s['input_set']}: {s['vs_eager']:.2f}x vs eager, "
                      + (f"{s['vs_compile']:.2f}x vs torch.compile" if s["vs_compile"] else
                         "torch.compile unavailable") + f" on {m['device'].get('name')}")
    for note in m["notes"]:
        console.print(f"note: {note}")


@app.command()
def profile(problem: Annotated[Optional[Path], typer.Argument()] = None,
            kernel: Annotated[Optional[Path], typer.Argument()] = None,
            device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
            no_ncu: Annotated[bool, typer.Option("--no-ncu", help="skip Nsight Compute")] = False,
            ncu_report: Annotated[Optional[Path], typer.Option(
                "--ncu-report", help="read an existing `ncu --csv --page raw` report instead")
            ] = None,
            json_out: JsonOpt = False) -> None:
    """Profile a kernel: roofline position, compiler metadata, Nsight Compute, diagnosis."""
    from tools.profile import distinct_kernels, from_ncu_report
    from tools.profile import profile as run_profile
    if ncu_report is not None:
        if not ncu_report.is_file():
            _fail(f"{ncu_report}: no such file")
        try:
            report = from_ncu_report(ncu_report)
        except ValueError as err:
            _fail(f"{ncu_report}: {err}")
    else:
        if problem is None or kernel is None:
            _fail("give PROBLEM.py and KERNEL.py, or --ncu-report FILE.csv")
        for path in (problem, kernel):
            if not path.is_file():
                _fail(f"{path}: no such file")
        try:
            report = run_profile(problem, kernel, device=device, use_ncu=not no_ncu)
        except ValueError as err:
            _fail(str(err))
    if json_out:
        _emit_json(report.to_dict())
        raise typer.Exit(0 if report.status == "profiled" else 1)
    if report.status != "profiled":
        console.print(f"[bold red]not profiled:[/] {report.error}")
        raise typer.Exit(1)
    if report.kernels:
        table = Table(title="Kernels (compiler metadata; a CUDA kernel's from its built library)",
                      title_justify="left")
        for col in ("kernel", "programs", "warps", "stages", "registers", "spilled B",
                    "shared B", "target"):
            table.add_column(col)
        for k in distinct_kernels(report.kernels):
            m = k["metadata"]
            table.add_row(k["kernel"], str(k["programs"] or "-"), *(str(m.get(c, "?")) for c in (
                "num_warps", "num_stages", "registers", "local_bytes", "shared_bytes",
                "target")))
        console.print(table)
    for row in report.ncu or []:
        console.print(f"ncu {row['kernel']}: {(row['duration_ns'] or 0) / 1e3:.1f} us, DRAM "
                      f"{(row['dram_bandwidth'] or 0) / 1e12:.2f} TB/s, occupancy "
                      f"{row['achieved_occupancy_pct'] or 0:.0f}%")
    for line in report.diagnosis:
        console.print(f"- {line}")
    for line in report.missing:
        console.print(f"[dim]not profiled: {line}[/]")
    for line in report.notes:
        console.print(f"[dim]note: {line}[/]")


MaxAttemptsOpt = Annotated[int, typer.Option("--max-attempts", help="coder attempts per task")]
SearchBudgetOpt = Annotated[int, typer.Option("--search-budget", help="configurations the "
                                              "offline coder times on a GPU")]
BudgetOpt = Annotated[Optional[float], typer.Option(
    "--budget-usd", help="spend cap on model calls for this run (default: [models] budget_usd "
    "of autodocket.toml)")]


def _start_run(docket, device: str, budget_usd: float | None):
    """Checks shared by `run` and `worker`; says which backends answer. (lab, device, backends)"""
    from agents.models import choose_backends, load_models
    from tools.bench import resolve_device
    lab = find_lab(docket)
    docket_mod.load(lab.docket_path)  # unreadable dockets stop here, untouched
    if not (lab.root / ".git").exists():
        _fail(f"{lab.root} is not a git repository: autodocket commits each task on a branch")
    if budget_usd is not None and budget_usd < 0:
        _fail("--budget-usd must be 0 or more")
    device = resolve_device(device)
    models = load_models(lab.config)
    backends, notes = choose_backends(models)
    where = f"device {device}" + (" (correctness only, no timing)" if device == "cpu" else "")
    if set(backends.values()) == {"offline"} and not any(models.roles().values()):
        console.print("no model configured: offline backend (catalog planner, template coder, "
                      f"rule-based council); {where}")
    else:
        console.print("models: " + ", ".join(f"{r} {b}" for r, b in backends.items()) +
                      f"; {where}")
        for note in notes:
            console.print(f"[yellow]{note}[/]")
    return lab, device, backends


def _finish_run(outcomes, idle_is_failure: bool = True) -> None:
    """The summary table, the run's model spend, and the exit code (a worker that found
    nothing to claim, `idle_is_failure=False`, did its job)."""
    from agents import models as models_mod  # the run's ledger (start_run replaced LEDGER)
    table = Table(title="run summary", title_justify="left")
    for col in ("task", "outcome", "speedup or reason", "branch"):
        table.add_column(col, overflow="fold")
    for o in outcomes:
        table.add_row(o.task_id, o.outcome, o.detail, o.branch or "")
    console.print(table)
    spent = models_mod.LEDGER
    if spent.calls:
        console.print(f"model requests: {len(spent.calls)}, ${spent.spent_usd:.4f} spent"
                      + (f" ({spent.unpriced_calls} answers without a price: set "
                         "input_cost_per_token / output_cost_per_token)" if spent.unpriced_calls
                         else ""))
    if not outcomes and idle_is_failure:
        print("nothing to do: every task is done, held or parked", file=sys.stderr)
        raise typer.Exit(1)
    if any(o.outcome == "spend-cap" for o in outcomes):
        raise typer.Exit(1)


@app.command()
@user_errors
def run(docket: DocketOpt = None,
        max_tasks: Annotated[int, typer.Option("--max-tasks", help="tasks to take (per worker "
                                               "with --workers)")] = 3,
        device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
        max_attempts: MaxAttemptsOpt = 3, search_budget: SearchBudgetOpt = 4,
        forever: Annotated[bool, typer.Option("--forever", help="keep watching the docket for "
                                              "new tasks")] = False,
        workers: Annotated[int, typer.Option("--workers", help="start this many worker "
                                             "processes (one per visible GPU) and drain the "
                                             "docket")] = 0,
        budget_usd: BudgetOpt = None) -> None:
    """Take the next tasks through plan, code, verify, measure, review and commit.
    Ctrl-C stops after the node in flight (checkpointed); the next run resumes it."""
    from agents.loop import RunSettings, run_docket
    if workers:
        return _run_workers(docket, workers, device, max_tasks, max_attempts, search_budget,
                            budget_usd)
    lab, device, backends = _start_run(docket, device, budget_usd)
    settings = RunSettings(device, max_attempts, search_budget, backends)
    _finish_run(run_docket(lab, settings, max_tasks=10**9 if forever else max_tasks,
                           forever=forever, budget_usd=budget_usd,
                           progress=lambda m: console.print(f"[dim]{m}[/]")))


def _run_workers(docket, n: int, device: str, max_tasks: int, max_attempts: int,
                 search_budget: int, budget_usd: float | None) -> None:
    """`run --workers N`: one `autodocket worker --drain` process per GPU (or N CPU workers),
    each logging to .autodocket/logs/; then the docket's statuses."""
    import subprocess

    from tools.bench import resolve_device
    lab = find_lab(docket)
    device = resolve_device(device)
    gpus = _visible_gpus() if device == "cuda" else 0
    if device == "cuda" and n > gpus:
        _fail(f"--workers {n}: only {gpus} GPU(s) visible; timing never shares a GPU")
    logs = lab.state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    procs = []
    for i in range(n):
        where = ["--gpu", str(i)] if device == "cuda" else ["--device", "cpu"]
        cmd = [sys.executable, "-m", "agents.cli", "worker", "--docket", str(lab.docket_path),
               *where, "--drain", "--max-tasks", str(max_tasks), "--max-attempts",
               str(max_attempts), "--search-budget", str(search_budget), "--name",
               f"{lab.root.name}-w{i}", *(["--budget-usd", str(budget_usd)] if budget_usd
                                          is not None else [])]
        log = (logs / f"worker-{i}.log").open("w")
        procs.append((subprocess.Popen(cmd, cwd=lab.root, stdout=log, stderr=subprocess.STDOUT),
                      log))
        console.print(f"worker {i}: {' '.join(where)}, log {log.name}")
    codes = [p.wait() for p, _ in procs]
    for _, log in procs:
        log.close()
    show_workers(lab)
    if any(c not in (0, 1) for c in codes):
        _fail(f"worker exit codes {codes}: see {logs}")


def _visible_gpus() -> int:
    import torch
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


@app.command()
@user_errors
def worker(docket: DocketOpt = None,
           gpu: Annotated[Optional[int], typer.Option("--gpu", help="the GPU this worker owns "
                                                      "(sets CUDA_VISIBLE_DEVICES)")] = None,
           device: Annotated[str, typer.Option(help="auto, cpu or cuda (without --gpu)")] = "auto",
           database: Annotated[Optional[str], typer.Option(
               "--database", help="database URL shared by the workers (PostgreSQL for several "
               "rigs); default: the lab's")] = None,
           remote: Annotated[Optional[str], typer.Option(
               "--remote", help="git remote to pull main from and push branches to")] = None,
           max_tasks: Annotated[int, typer.Option("--max-tasks", help="stop after this many "
                                                  "tasks")] = 10**9,
           drain: Annotated[bool, typer.Option("--drain", help="exit once the docket has "
                                               "nothing left, in anyone's hands")] = False,
           lease_seconds: Annotated[float, typer.Option("--lease-seconds", help="a task's lease "
                                                        "expires this long after the last "
                                                        "heartbeat")] = 60.0,
           name: Annotated[Optional[str], typer.Option("--name", help="worker id (default "
                                                       "host-device-pid)")] = None,
           max_attempts: MaxAttemptsOpt = 3, search_budget: SearchBudgetOpt = 4,
           budget_usd: BudgetOpt = None) -> None:
    """A long-running worker: claims the next task with a lease, runs it through the graph,
    pushes its branch to the shared remote, and claims the next."""
    import os

    from agents.loop import RunSettings, run_docket
    if gpu is not None:
        if gpu < 0:
            _fail("--gpu must be 0 or more")
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)  # before anything touches CUDA
        device = "cuda"
    if database:
        os.environ["AUTODOCKET_DATABASE_URL"] = database
    if lease_seconds <= 0:
        _fail("--lease-seconds must be more than 0")
    lab, device, backends = _start_run(docket, device, budget_usd)
    if remote:
        from git import Repo
        if remote not in [r.name for r in Repo(lab.root).remotes]:
            _fail(f"{lab.root} has no git remote {remote!r}")
    settings = RunSettings(device, max_attempts, search_budget, backends, remote, lease_seconds)
    _finish_run(run_docket(lab, settings, max_tasks=max_tasks, worker_id=name,
                           wait_for_others=drain, forever=not drain, poll_seconds=
                           min(10.0, lease_seconds / 2), budget_usd=budget_usd,
                           progress=lambda m: console.print(f"[dim]{m}[/]")),
                idle_is_failure=False)


def show_workers(lab, json_out: bool = False) -> None:
    from memory.db import make_engine
    from memory.leases import Leases
    rows = Leases(make_engine(lab.database_url), lab.docket_key).workers()
    if json_out:
        return _emit_json(rows)
    table = Table(title=f"workers of {lab.docket_key}", title_justify="left")
    for col in ("worker", "device", "state", "task", "stage", "done", "heartbeat"):
        table.add_column(col, overflow="fold")
    for w in rows:
        table.add_row(w["worker"], w["device"], w["state"], w["task"] or "", w["stage"] or "",
                      str(w["tasks_done"]), f"{w['heartbeat_s_ago']:.0f} s ago")
    console.print(table)


@app.command()
@user_errors
def workers(docket: DocketOpt = None, json_out: JsonOpt = False) -> None:
    """Workers of this lab: device, current task and stage, last heartbeat (`lost` once it is
    older than a lease)."""
    lab = find_lab(docket)
    if not lab.has_database():
        _fail("no worker has run on this lab yet")
    show_workers(lab, json_out)


RemoteOpt = Annotated[Optional[str], typer.Option(
    "--remote", help="the shared git remote workers push to (fetch the agents' branches first)")]


@app.command()
@user_errors
def prs(docket: DocketOpt = None, remote: RemoteOpt = None, json_out: JsonOpt = False) -> None:
    """The agents' open pull requests: one row per autodocket/<task-id> branch."""
    from agents.lab_view import pull_requests
    from tools.git import fetch_agent_branches
    lab = find_lab(docket)
    if remote:
        fetch_agent_branches(lab.root, remote)
    rows = pull_requests(lab)
    if json_out:
        _emit_json(rows)
        return
    table = Table(title=f"{len(rows)} agent pull requests", title_justify="left")
    for col in ("task", "measured", "attempts", "verified", "correct", "vs eager", "vs compile",
                "criterion", "card", "council", "merges", "age h"):
        table.add_column(col, overflow="fold")
    for r in rows:
        fmt = lambda v: f"{v:.2f}x" if v else "-"
        verified = str(r["verified"]) + ("" if r["verified"] in ("proved", None) else
                                         " + dynamic" if "clean" in (r["guarantee"] or "")
                                         else " (unchecked)")
        table.add_row(r["task_id"], r["measured"], str(r["attempts"]), verified,
                      "yes" if r["correct"] else "NO", fmt(r["vs_eager"]),
                      fmt(r["vs_compile"]), r["criterion"], r["card"] or "", r["council"] or "",
                      "yes" if r["merges_cleanly"] else "[red]CONFLICT[/]", str(r["age_hours"]))
    console.print(table)


@app.command()
@user_errors
def serve(docket: DocketOpt = None,
          host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="port")] = 8765,
          token: Annotated[Optional[str], typer.Option(
              envvar="AUTODOCKET_PAGE_TOKEN", help="access token every request must carry "
              "(required beyond loopback); from $AUTODOCKET_PAGE_TOKEN if set")] = None) -> None:
    """The lab page in a browser: pull requests with Approve / Reject, the docket, the
    knowledge graph and the workers' progress."""
    from agents.web import serve as run_page
    run_page(docket, host, port, token)


@app.command("approve")
@user_errors
def approve_cmd(task_id: str, docket: DocketOpt = None, remote: RemoteOpt = None) -> None:
    """Merge an agent's branch into main and tick its docket line with the evidence; with
    --remote, push main there and delete the agent's branch from it."""
    from agents.loop import DecisionError, approve
    from tools.git import fetch_agent_branches, publish_approval
    lab = find_lab(docket)
    if remote:
        fetch_agent_branches(lab.root, remote)
    try:
        line = approve(lab, task_id)
    except DecisionError as err:
        _fail(str(err))
    if remote:
        publish_approval(lab.root, task_id, remote)
    console.print(f"approved {task_id}: {line}" + (f"; pushed main to {remote}" if remote
                                                   else ""))


@app.command("reject")
@user_errors
def reject_cmd(task_id: str, reason: Annotated[str, typer.Option("--reason")],
               park: Annotated[bool, typer.Option("--park", help="park the task instead of "
                                                  "sending it back to the coder")] = False,
               docket: DocketOpt = None) -> None:
    """Reject an agent's branch: the reason goes back to the coder (or the task is parked)."""
    from agents.loop import DecisionError, reject
    lab = find_lab(docket)
    try:
        outcome = reject(lab, task_id, reason, park)
    except DecisionError as err:
        _fail(str(err))
    console.print(f"rejected {task_id}: {outcome}")


@app.command()
@user_errors
def reproduce(task_id: str, docket: DocketOpt = None, json_out: JsonOpt = False,
              device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto") -> None:
    """Re-run a recorded measurement here and compare: old vs new, per input set."""
    from tools.bench import bench as run_bench
    from tools.git import branch_name
    lab = find_lab(docket)
    rid = f"results/{task_id}"
    folder = lab.root / rid
    if not (folder / "evidence.json").is_file():  # not approved yet: take it from the branch
        raw = blob(lab, f"{branch_name(task_id)}:{rid}/evidence.json")
        if raw is None:
            _fail(f"no evidence record for {task_id} on main or on its branch")
        import tempfile
        folder = Path(tempfile.mkdtemp(prefix="autodocket-reproduce-"))
        for name in ("evidence.json", "problem.py", "kernel.py"):
            (folder / name).write_bytes(blob(lab, f"{branch_name(task_id)}:{rid}/{name}"))
    old = json.loads((folder / "evidence.json").read_text())
    own = (old.get("problem") or {}).get("origin") == "researcher"
    new = run_bench(folder / "problem.py", folder / "kernel.py", device=device, use_cache=False,
                    researchers_problem=own)  # run again: a cached verdict repeats nothing
    same_card = (old.get("device") or {}).get("name") == new.device.get("name")
    rows, worst = [], 0.0
    old_sets = {s["input_set"]: s for s in (old.get("timing") or {}).get("sets", [])}
    for s in (new.timing or {}).get("sets", []):
        before = old_sets.get(s["input_set"])
        if before:
            a, b = before["first"]["kernel"]["median_ms"], s["first"]["kernel"]["median_ms"]
            rows.append({"input_set": s["input_set"], "old_ms": a, "new_ms": b, "ratio": b / a})
            worst = max(worst, abs(b / a - 1))
    reproduced = new.status == "correct" and (not rows or not same_card or worst <= 0.10)
    doc = {"task_id": task_id, "old_device": (old.get("device") or {}).get("name"),
           "new_device": new.device.get("name"), "same_card": same_card,
           "correct": new.status == "correct", "rows": rows, "reproduced": reproduced,
           "rejections": new.rejections}
    if json_out:
        _emit_json(doc)
    else:
        console.print(f"{task_id}: recorded on {doc['old_device']}, re-run on {doc['new_device']}")
        console.print(f"correct now: {doc['correct']}"
                      + ("" if not new.rejections else f" ({new.feedback()})"))
        for r in rows:
            console.print(f"  {r['input_set']}: {r['old_ms']:.4f} ms then, {r['new_ms']:.4f} ms "
                          f"now ({r['ratio']:.2f}x)")
        if rows and not same_card:
            console.print("different card: times shown, not judged")
        if not rows:
            console.print("no timing to compare (recorded or re-run without a GPU)")
        console.print("reproduced" if reproduced else "[bold red]not reproduced[/]")
    if not reproduced:
        raise typer.Exit(1)


kg_app = typer.Typer(help="The lab knowledge graph: what was learned, when, on what evidence.",
                     no_args_is_help=True)
app.add_typer(kg_app, name="kg")


@kg_app.command("query")
@user_errors
def kg_query(query: str, docket: DocketOpt = None, json_out: JsonOpt = False,
             as_of: Annotated[Optional[str], typer.Option("--as-of", help="YYYY-MM-DD: the "
                                                          "graph as it stood then")] = None,
             kind: Annotated[Optional[str], typer.Option(help="task, kernel, claim, device, "
                                                         "...")] = None,
             limit: int = 20) -> None:
    """Full-text search over facts, expanded two hops through the graph, with provenance."""
    hits = find_lab(docket).knowledge().query(query, as_of=as_of, kind=kind, limit=limit)
    if json_out:
        _emit_json([h.to_dict() for h in hits])
        return
    table = Table(title=f"{len(hits)} facts for {query[:60]!r}"
                  + (f" as of {as_of}" if as_of else ""), title_justify="left")
    for col in ("subject", "predicate", "object / value", "status", "valid", "hops", "source"):
        table.add_column(col, overflow="fold")
    for h in hits:
        src = h.provenance
        table.add_row(f"{h.subject_kind}:{h.subject}", h.predicate,
                      " = ".join(x for x in (h.object, h.value) if x), h.status,
                      f"{h.valid_from[:10]}..{(h.valid_to or '')[:10]}", str(h.hops),
                      f"{src.get('evidence') or ''}{':' + str(src['line']) if src.get('line') else ''}")
    console.print(table)


@kg_app.command("show")
@user_errors
def kg_show(entity: str, docket: DocketOpt = None, json_out: JsonOpt = False) -> None:
    """An entity with all its facts, current and superseded."""
    doc = find_lab(docket).knowledge().show(entity)
    if json_out:
        _emit_json(doc)
        return
    for e in doc["entities"]:
        console.print(f"[bold]{e['kind']}:{e['name']}[/]")
        for f in e["facts"]:
            mark = "" if f["current"] else f"  [dim](until {f['valid_to'][:10]})[/]"
            console.print(f"  {f['subject']} {f['predicate']} "
                          f"{' = '.join(str(x) for x in (f['object'], f['value']) if x)} "
                          f"[{f['status']}] from {f['valid_from'][:10]}{mark}")


@kg_app.command("ingest-docket")
@user_errors
def kg_ingest(path: Path) -> None:
    """Tasks, dates and sections of a docket, and each number in a checked line as a claim."""
    from agents.config import lab_here
    from memory.facts import docket_records
    lab = lab_here()  # this lab's database, even for a docket from elsewhere
    key = path.resolve().relative_to(lab.root.resolve()).as_posix() \
        if path.resolve().is_relative_to(lab.root.resolve()) else path.resolve().as_posix()
    records = docket_records(docket_mod.load(path), lab.root, key)
    added = lab.knowledge().add(records)
    claims = [r for r in records if r.predicate == "claims"]
    console.print(f"{added} new facts from {path.name} ({len(records)} read); "
                  f"{sum(r.status == 'unverified' for r in claims)} of {len(claims)} claims "
                  "unverified")


@kg_app.command("prune")
@user_errors
def kg_prune(stale_days: Annotated[int, typer.Option("--stale-days")],
             docket: DocketOpt = None) -> None:
    """Close claims and hypotheses no evidence touched in N days (still readable with --as-of)."""
    closed = find_lab(docket).knowledge().prune(stale_days)
    console.print(f"closed {closed} stale claims and hypotheses")


@kg_app.command("rebuild")
@user_errors
def kg_rebuild(docket: DocketOpt = None) -> None:
    """Rebuild the database from the repository: the docket and knowledge/facts.jsonl."""
    from agents.loop import rebuild_knowledge
    lab = find_lab(docket)
    console.print(f"rebuilt: {rebuild_knowledge(lab)} facts")


@kg_app.command("ask")
@user_errors
def kg_ask(question: str, docket: DocketOpt = None) -> None:
    """Answer from retrieved facts only, through a model: not built yet."""
    _fail("kg ask is not built yet (it will answer through a configured model from retrieved "
          "facts only); `autodocket kg query` searches the facts directly")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
