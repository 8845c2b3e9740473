"""The autonomous loop for one docket task, as a LangGraph state machine.

    select ─▶ plan ─▶ code ─▶ verify ─▶ measure ─▶ review ─▶ commit ─▶ await_approval ─▶ record
                       ▲ ▲      │          │          │                                   │
                       │ └──────┴──────────┴──────────┴── feedback (at most max_attempts) ┘
                       └ unusable model answer                                 (rejected)
    plan, attempts used up, or a harness that cannot run ─▶ park
    select: the task is gone or done ─▶ end

Each node is a plain function of the typed state that calls into docket/, tools/, kernels/ or
memory/. Side effects are idempotent (files are overwritten, commits made only on change and
only by the worker holding the task's lease, status rows upserted), so a run killed anywhere
resumes from its checkpoint. `await_approval` holds nothing but the interrupt: the
researcher's `approve` / `reject` resumes it.
`backend` says, per role (planner, coder, council), whether models or the offline backend
answer; every model request is appended to `calls` and ends up in the evidence. What belongs to
the machine running a node (`lab_root`, `device`, the shared git `remote`) comes from the run's
`configurable`, not the state, and the problem and kernel travel as text: a worker on another
machine resumes the task from its checkpoint.
"""
from __future__ import annotations

import json
import operator
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt


class TaskState(TypedDict, total=False):
    task_id: str
    title: str
    text: str
    line: int
    docket_key: str
    max_attempts: int
    search_budget: int
    plan_note: str
    notes: str  # the researcher's sub-items, read by the planner too
    criterion: str  # a plan row's success criterion ("" for a checklist task)
    own_problem: str  # the researcher's own problem file, when the task carries one
    own_problem_from: str
    spec: dict  # what the text asked for (agents.spec), with the words
    params: dict  # the parameters of the problem measured, with the words they came from
    problem_origin: str  # the catalog family, "model" or "researcher"
    problem_source: str
    attempt: int
    kernel_source: str  # "" after an attempt that gave no kernel
    coder_note: str
    config: dict
    search: list
    verification: dict
    # the launches verified as the harness recorded them on this run's device (None: the
    # verifier recorded its own, on the CPU); `approve` re-verifies these
    launch_record: dict
    # the harness's full run of the current kernel (BenchReport.to_dict): the search's (code
    # node) or the verify node's; Z3 proves its launches and the measure node judges it, so
    # the candidate runs once. `harness_run_of` is the kernel's sha256: a run of another
    # attempt's kernel is never taken for this one's
    harness_run: dict
    harness_run_of: str
    measurement: dict
    profile: dict
    measured_at: str
    consensus: dict
    reviews: list
    feedback: list[str]
    outcome: str  # awaiting-review | parked | needs-human | approved | queued | skipped
    reason: str
    branch: str
    commit: str
    decision: dict
    backend: dict  # role -> "models" | "offline"
    calls: Annotated[list, operator.add]  # model requests: role, model, tokens, cost, outcome


def _lab(state: TaskState, config: RunnableConfig):
    from agents.config import find_lab
    return find_lab(Path(config["configurable"]["lab_root"]) / state["docket_key"])


def _work(state: TaskState, config: RunnableConfig) -> Path:
    return Path(config["configurable"]["lab_root"]) / ".autodocket" / "work" / state["task_id"]


def _written(path: Path, text: str) -> Path:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path


def _problem_file(state: TaskState, config: RunnableConfig) -> Path:
    return _written(_work(state, config) / "problem.py", state["problem_source"])


def _files(state: TaskState, config: RunnableConfig) -> tuple[Path, Path]:
    """The problem and the current kernel as files in this machine's work folder. The state
    holds their text, so a worker on another machine resumes a task from its checkpoint."""
    kernel = _work(state, config) / f"attempt-{state['attempt']}" / "kernel.py"
    return _problem_file(state, config), _written(kernel, state["kernel_source"])


def _models(state: TaskState, config: RunnableConfig, role: str):
    """The lab's model configuration when `role` answers with models this run, else None."""
    if (state.get("backend") or {}).get(role) != "models":
        return None
    from agents.models import load_models
    return load_models(_lab(state, config).config)


# nodes --------------------------------------------------------------------------------------
def select(state: TaskState, config: RunnableConfig) -> dict:
    """Take the task as the docket has it now: the researcher may have ticked, edited or removed
    it since the run picked it. Marks it in-progress; a rejected round's reason is feedback."""
    import docket
    from docket.audit import evidence_path
    lab = _lab(state, config)
    store = lab.store()
    current = docket.load(lab.docket_path)
    task = next((t for t in current.tasks if t.id == state["task_id"]), None)
    if task is None or task.checked or evidence_path(lab.root, task.id).is_file():
        store.clear(state["task_id"])
        return {"outcome": "skipped", "reason": "no longer open in the docket"}
    row = store.all().get(state["task_id"])
    feedback = [row.reason] if row and row.status == "queued" and row.reason else []
    store.set(state["task_id"], "in-progress", row.reason if row else None)
    try:
        own, where = own_problem(lab.root, current, task)
    except ValueError as err:
        return {"title": task.title, "line": task.line, "text": task_text(task),
                "outcome": "needs-human", "reason": str(err)}
    return {"title": task.title, "line": task.line, "feedback": feedback,
            "text": task_text(task), "notes": sub_item_text(task),
            "criterion": task.criterion or "", "own_problem": own, "own_problem_from": where}


def task_text(task) -> str:
    """What the loop works from besides the title; `approve` finds the task by it again."""
    return " ".join(filter(None, [task.description, task.criterion]))


AUTODOCKET_KEYS = {"result", "evidence", "status"}  # sub-items autodocket writes itself


def sub_item_text(task) -> str:
    """The researcher's sub-items (the planner reads them too), not autodocket's own."""
    return " ".join(s.text for s in task.sub_items
                    if s.text.partition(":")[0].strip().lower() not in AUTODOCKET_KEYS)


def own_problem(lab_root: Path, d, task) -> tuple[str, str]:
    """The researcher's own problem for the task, if it carries one: a `- problem: PATH`
    sub-item (relative to the lab) or a fenced python block under it. ("", "") if none;
    ValueError when the named file cannot be used."""
    import re
    for sub in task.sub_items:
        key, _, rest = sub.text.partition(":")
        if key.strip().lower() == "problem" and rest.strip():
            path = (lab_root / rest.strip().strip("`")).resolve()
            if not path.is_relative_to(lab_root.resolve()):
                raise ValueError(f"the task's problem {rest.strip()} lies outside the lab")
            if not path.is_file():
                raise ValueError(f"the task's problem {rest.strip()} does not exist")
            return path.read_text(encoding="utf-8"), rest.strip()
    block = "".join(d.lines[task.line - 1:task.end_line])
    found = re.search(r"^([ \t]*)```+ *python[^\n]*\n(.*?)^[ \t]*```", block, re.M | re.S)
    if found:
        import textwrap
        return textwrap.dedent(found.group(2)), f"the python block under line {task.line}"
    return "", ""


def plan(state: TaskState, config: RunnableConfig) -> dict:
    """The problem the task asks for: the researcher's own if the task carries one, else the
    planner's (a model's, or a catalog family posed with the task's parameters)."""
    from agents.models import ModelFailure
    from agents.planner import check_own, plan_offline, plan_with_model, write_problem
    target, calls = _work(state, config) / "problem.py", []
    text = " ".join(filter(None, [state["text"], state.get("notes")]))
    if state.get("own_problem"):
        p = check_own(state["own_problem"], state["own_problem_from"], target)
    elif models := _models(state, config, "planner"):
        try:
            p, calls = plan_with_model(models.planner, state["title"], text, target,
                                       models.backoff_s)
        except ModelFailure as err:
            return {"outcome": "parked", "reason": f"no plan: {err}", "calls": err.calls}
    else:
        p = plan_offline(state["title"], text, state.get("criterion") or None)
        if p.outcome == "planned":
            write_problem(p, target)
    if p.outcome != "planned":
        return {"outcome": p.outcome, "reason": p.reason, "plan_note": p.reason, "calls": calls,
                "spec": p.spec}
    return {"problem_source": target.read_text(encoding="utf-8"), "plan_note": p.reason,
            "problem_origin": p.problem, "spec": p.spec, "params": p.params,
            "attempt": 0, "calls": calls}


def code(state: TaskState, config: RunnableConfig) -> dict:
    from agents.coder import code_offline, code_with_model
    from agents.models import ModelFailure
    from agents.spec import read_spec
    attempt = state.get("attempt", 0) + 1
    # the language the task asked for (CUDA C++ or Triton), also for a researcher's own problem
    language = read_spec(state["title"], " ".join(filter(None, [state.get("text"),
                                                                state.get("notes")]))).language
    problem = _problem_file(state, config)
    out = _work(state, config) / f"attempt-{attempt}" / "kernel.py"
    models = _models(state, config, "coder")
    if models:
        try:
            c, calls = code_with_model(models.coder, problem, out, state.get("feedback", []),
                                       models.backoff_s, language)
        except ModelFailure as err:
            return {"attempt": attempt, "kernel_source": "", "calls": err.calls,
                    "feedback": state.get("feedback", []) + [f"attempt {attempt}, coder: {err}"]}
        return {"attempt": attempt, "kernel_source": out.read_text(encoding="utf-8"),
                "coder_note": c.note, "config": None, "search": None, "calls": calls,
                "harness_run": None}
    c = code_offline(problem, out, attempt, config["configurable"]["device"],
                     budget=state.get("search_budget", 4), language=language,
                     check_templates=state.get("problem_origin") in ("model", "researcher"),
                     researchers_problem=state.get("problem_origin") == "researcher")
    if c.kernel is None:
        return {"attempt": attempt, "kernel_source": "", "outcome": "parked", "reason": c.note}
    source = out.read_text(encoding="utf-8")
    update = {"attempt": attempt, "kernel_source": source, "coder_note": c.note,
              "config": c.config, "search": c.search, "harness_run": None}
    if c.harness_run is not None:  # the search measured its winner against eager and compile
        update.update(_kept(c.harness_run, source))
    return update


def verify(state: TaskState, config: RunnableConfig) -> dict:
    """Z3 over the launches this run's device runs. One harness run serves the proof and the
    measurement: the search's final measurement of its winner (code node), else the full
    measurement taken here. It records the candidate's launches in the problem's dtype on the
    device (on a GPU the card's: a persistent grid is one program per SM), and Z3 proves
    those (`verify_recorded`). Running the candidate
    before it is proved is no new risk: recording its launches means running it, and every
    run is sandboxed. A kernel found violated was measured for nothing: rare, and cheaper
    than a second run of every kernel that is not."""
    from tools.bench import bench_settled
    from tools.verify import verify_recorded
    device = config["configurable"]["device"]
    files = _files(state, config)
    update: dict = {}
    run = _harness_run(state)  # the search's, where it measured this kernel
    if run is None:
        run = bench_settled(*files, device=device, record_launches=True,
                            researchers_problem=state.get("problem_origin") == "researcher")
        update.update(_kept(run, state["kernel_source"]))
    report = verify_recorded(*files, run, device)
    # where the launches proved were recorded: the evidence's guarantee names it
    update["verification"] = {**report.to_dict(), "launches_on": device}
    if report.status in ("violated", "error"):
        update["feedback"] = state.get("feedback", []) + [
            f"attempt {state['attempt']}, verifier: {report.feedback()}"]
    return update


def _utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _sha256(text: str) -> str:
    import hashlib
    return hashlib.sha256(text.encode()).hexdigest()


def _kept(run, kernel_source: str) -> dict:
    """A harness run of `kernel_source` for the checkpoint, which `_harness_run` reads back."""
    return {"harness_run": run.to_dict(), "harness_run_of": _sha256(kernel_source),
            "launch_record": run.launch_record, "measured_at": _utc_now()}


def _harness_run(state: TaskState):
    """The harness's full run of the current kernel, from the checkpoint (BenchReport), or
    None: none was kept, or it was of another kernel."""
    from tools.bench import BenchReport
    if not state.get("harness_run") or \
            state.get("harness_run_of") != _sha256(state.get("kernel_source", "")):
        return None
    return BenchReport.from_dict(state["harness_run"], launch_record=state.get("launch_record"))


def measure(state: TaskState, config: RunnableConfig) -> dict:
    """The attempt's harness run (the search's or the verify node's), judged. On a GPU a
    kernel Z3 did not prove is measured once more with compute-sanitizer watching (on the CPU
    the interpreter bounds-checks every run anyway). Then profiled where it tells someone
    something: on a GPU always (evidence and REPORT.md keep it), on the CPU only for a failed
    attempt (the coder's next prompt gets it; a passing CPU attempt's compiler metadata is
    not worth seconds per task)."""
    from tools.bench import bench_settled
    from tools.profile import profile
    device = config["configurable"]["device"]
    files = _files(state, config)
    unproved = state["verification"]["status"] != "proved"
    update: dict = {"harness_run": None, "profile": None}  # never a stale one
    report = _harness_run(state)
    if report is None or (unproved and device == "cuda"):
        # a kernel rejected for its timing alone is measured once more before the coder is told
        report = bench_settled(*files, device=device, sanitize=unproved,
                               researchers_problem=state.get("problem_origin") == "researcher")
        update["measured_at"] = _utc_now()
    measurement = report.to_dict()
    measurement["criteria"] = criteria_verdicts(state, measurement)
    update["measurement"] = measurement
    if report.status == "error":  # the problem or this machine, which no new kernel mends
        return {**update, "outcome": "needs-human",
                "reason": f"the harness could not run: {report.error}"}
    dynamic = report.dynamic_check or {"status": "not run", "why": "no run watched its accesses"}
    if report.status == "correct" and unproved and dynamic["status"] != "clean":
        # Z3 could not prove it and nothing else watched its memory accesses: not shown safe
        return {**update, "outcome": "needs-human",
                "reason": f"verification {state['verification']['status']} and no dynamic "
                          f"check ran ({dynamic.get('why', dynamic['status'])})"}
    failed = report.status != "correct"
    if failed or report.timing:
        prof = profile(*files, device=device, roofline=report.roofline,
                       timeout=PROFILE_TIMEOUT_S)
        update["profile"] = prof.to_dict()
    if failed:
        update["feedback"] = state.get("feedback", []) + [
            f"attempt {state['attempt']}, harness: {report.feedback()}" +
            _profile_note(update)]
    return update


PROFILE_TIMEOUT_S = 180  # a profile informs the report; a stuck one must not hold the task long


def criteria_verdicts(state: TaskState, measurement: dict) -> list[dict]:
    """The task's criterion (a plan row's cell, or the phrases of its text) against the
    measurement: met, not met, or not checkable here."""
    from agents.criteria import judge, parse
    from agents.spec import criterion_phrase
    words = state.get("criterion") or criterion_phrase(
        " ".join(filter(None, [state.get("title"), state.get("text"), state.get("notes")])))
    return judge(parse(words), measurement)


def review(state: TaskState, config: RunnableConfig) -> dict:
    from agents.council import review_offline, review_with_models
    models = _models(state, config, "council")
    calls = []
    if models:
        verdict, reviews, calls = review_with_models(
            models.council, state["problem_source"], state["kernel_source"],
            state["verification"], state["measurement"], models.backoff_s)
    else:
        verdict, reviews = review_offline(state["verification"], state["measurement"])
    update: dict = {"consensus": verdict, "reviews": reviews, "calls": calls}
    if verdict["verdict"] != "approve":
        objections = [f"{r['seat']}" + (f" (line {f['line']})" if f.get("line") else "") +
                      f": {f['text']}" for r in reviews for f in r["findings"]
                      if f["severity"] == "error"]
        update["feedback"] = state.get("feedback", []) + [
            f"attempt {state['attempt']}, council: " + ("; ".join(objections) or
                                                         "no majority approved") +
            _profile_note(state)]
    return update


def _profile_note(state: TaskState) -> str:
    """The attempt's profile for the coder (a slow kernel's council verdict says what, the
    profile says why); empty when the attempt was not profiled."""
    from tools.profile import ProfileReport
    prof = state.get("profile")
    return "\n" + ProfileReport(**prof).feedback() if prof else ""


class LeaseLost(RuntimeError):
    """Another worker holds the task now; this one must leave it uncommitted."""


def hold_lease(state: TaskState, config: RunnableConfig) -> None:
    """Only the lease holder commits. A worker that stalled past its lease may have been
    replaced by one that resumed the task from its checkpoint; renewing here both checks that
    and gives the commit and push a whole lease."""
    worker = config["configurable"].get("worker_id")
    if worker is None:  # not run under a lease (Studio, a test of the graph alone)
        return
    from memory.db import make_engine
    from memory.leases import Leases
    lab = _lab(state, config)
    leases = Leases(make_engine(lab.database_url), lab.docket_key,
                    config["configurable"]["lease_s"])
    if not leases.renew(worker, state["task_id"]):
        raise LeaseLost(f"{state['task_id']}: lease lost to another worker before the commit")


def commit(state: TaskState, config: RunnableConfig) -> dict:
    """Commit on the task's branch; with a shared remote (workers), start from the remote's
    branch if another worker pushed it, and push."""
    from agents.report import evidence, report_markdown, speedup_chart
    from memory.facts import evidence_records
    from tools.git import branch_name, commit_files, ensure_worktree, push_branch
    hold_lease(state, config)
    problem, kernel = _files(state, config)
    ev = evidence(state, problem, kernel)
    chart = speedup_chart(state["measurement"].get("timing"))
    rid = f"results/{state['task_id']}"
    files = {f"{rid}/problem.py": problem.read_bytes(), f"{rid}/kernel.py": kernel.read_bytes(),
             f"{rid}/evidence.json": json.dumps(ev, indent=2, default=str) + "\n",
             f"{rid}/REPORT.md": report_markdown(ev, chart is not None),
             f"{rid}/facts.jsonl": "".join(r.to_json() + "\n" for r in evidence_records(
                 ev, None, ev["recorded_at"]))}
    if chart is not None:
        files[f"{rid}/speedup.png"] = chart
    lab = _lab(state, config)
    remote = config["configurable"].get("remote")
    worktree = ensure_worktree(lab.root, state["task_id"], remote=remote)
    sha = commit_files(worktree, files, commit_message(state))
    if remote:
        push_branch(lab.root, state["task_id"], remote)
    branch = branch_name(state["task_id"])
    lab.store().set(state["task_id"], "awaiting-review", f"branch {branch}")
    return {"branch": branch, "commit": sha, "outcome": "awaiting-review"}


def await_approval(state: TaskState) -> dict:
    decision = interrupt({"task_id": state["task_id"], "branch": state["branch"],
                          "commit": state["commit"]})
    return {"decision": decision}


def record(state: TaskState) -> dict:
    """Approval merges and ticks (done by `autodocket approve` before resuming, so that the
    researcher's checks run first); a rejection sends the reason back to the coder."""
    decision = state["decision"]
    if decision.get("decision") == "approve":
        return {"outcome": "approved"}
    reason = f"researcher rejected attempt {state['attempt']}: {decision.get('reason', '')}"
    feedback = state.get("feedback", []) + [reason]
    if decision.get("park"):
        return {"feedback": feedback, "outcome": "parked", "reason": reason}
    return {"feedback": feedback, "outcome": "queued", "reason": reason}


def park(state: TaskState, config: RunnableConfig) -> dict:
    outcome = state.get("outcome") if state.get("outcome") in ("needs-human", "parked") \
        else "parked"
    reason = state.get("reason") or "attempts used up: " + " | ".join(state.get("feedback", [])[-3:])
    _lab(state, config).store().set(state["task_id"], outcome, reason)
    return {"outcome": outcome, "reason": reason}


def commit_message(state: TaskState) -> str:
    from agents.report import result_phrase
    m = state["measurement"]
    measured = result_phrase(m.get("speedups") or [], (m.get("device") or {}).get("name"),
                             m.get("criteria"), state["verification"]["status"])
    return (f"autodocket: {state['title']}: {measured}\n\nverification: "
            f"{state['verification']['status']} {state['verification']['counts']}\n"
            f"council: {state['consensus']['approvals']}/{state['consensus']['seats']} approve")


# routing --------------------------------------------------------------------------------------
def _retry_or_park(state: TaskState) -> str:
    return "code" if state.get("attempt", 0) < state.get("max_attempts", 3) else "park"


def after_select(state: TaskState) -> str:
    outcome = state.get("outcome")
    return END if outcome == "skipped" else "park" if outcome == "needs-human" else "plan"


def after_plan(state: TaskState) -> str:
    return "code" if state.get("problem_source") else "park"


def after_code(state: TaskState) -> str:
    if state.get("outcome") == "parked":
        return "park"
    return "verify" if state.get("kernel_source") else _retry_or_park(state)


def after_verify(state: TaskState) -> str:
    ok = state["verification"]["status"] not in ("violated", "error")
    return "measure" if ok else _retry_or_park(state)


def after_measure(state: TaskState) -> str:
    status = state["measurement"]["status"]
    if status == "error" or state.get("outcome") == "needs-human":
        return "park"
    return "review" if status == "correct" else _retry_or_park(state)


def after_review(state: TaskState) -> str:
    return "commit" if state["consensus"]["verdict"] == "approve" else _retry_or_park(state)


def after_record(state: TaskState) -> str:
    return "park" if state["outcome"] == "parked" else END


def build() -> StateGraph:
    g = StateGraph(TaskState)
    for node in (select, plan, code, verify, measure, review, commit, await_approval, record, park):
        g.add_node(node.__name__, node)
    g.add_edge(START, "select")
    g.add_conditional_edges("select", after_select, ["plan", "park", END])
    g.add_conditional_edges("plan", after_plan, ["code", "park"])
    g.add_conditional_edges("code", after_code, ["verify", "code", "park"])
    g.add_conditional_edges("verify", after_verify, ["measure", "code", "park"])
    g.add_conditional_edges("measure", after_measure, ["review", "code", "park"])
    g.add_conditional_edges("review", after_review, ["commit", "code", "park"])
    g.add_edge("commit", "await_approval")
    g.add_edge("await_approval", "record")
    g.add_conditional_edges("record", after_record, ["park", END])
    g.add_edge("park", END)
    return g


# for `langgraph dev` / Studio: compiled without a checkpointer (the dev server brings its own)
graph = build().compile()
