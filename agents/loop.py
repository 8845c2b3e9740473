"""Running the graph over a docket, and the researcher's decisions that resume it.

One LangGraph thread per task and round (`<task-id>.<round>`; a rejection starts a new round),
checkpointed in `.autodocket/checkpoints.sqlite` (in PostgreSQL when the lab's database is). A
task left `in-progress` by a killed run is resumed from its last checkpoint before any new task
is taken.
"""
from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from dataclasses import dataclass

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

import docket as docket_mod
from agents.config import Lab
from agents.graph import build
from memory.db import make_engine


class DecisionError(ValueError):
    """An approve / reject that must not go ahead (exit code 2), with the reason."""


@dataclass
class Outcome:
    task_id: str
    title: str
    outcome: str
    detail: str
    branch: str | None


def _graph(lab: Lab):
    """The compiled graph with the lab's checkpointer: PostgreSQL when the lab's database is
    (workers on several machines then resume each other's tasks), else a SQLite file."""
    url = lab.database_url
    if url.startswith(("postgresql://", "postgresql+psycopg://")):
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg import Connection
        from psycopg.rows import dict_row
        conn = Connection.connect(url.replace("postgresql+psycopg://", "postgresql://", 1),
                                  autocommit=True, prepare_threshold=0, row_factory=dict_row)
        saver = PostgresSaver(conn)
        saver.setup()  # idempotent: creates or migrates the checkpoint tables
    else:
        lab.state_dir.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(lab.state_dir / "checkpoints.sqlite", check_same_thread=False)
        saver = SqliteSaver(conn)
    return build().compile(checkpointer=saver)


def _thread(lab: Lab, task_id: str, rounds: int, device: str = "cpu",
            remote: str | None = None) -> dict:
    """The task's LangGraph thread, and what belongs to this machine (see agents/graph.py)."""
    return {"configurable": {"thread_id": f"{task_id}.{rounds}", "lab_root": str(lab.root),
                             "device": device, "remote": remote}}


def _summary(values: dict) -> str:
    if values.get("outcome") != "awaiting-review":
        return values.get("reason", "")
    speed = (values.get("measurement") or {}).get("speedups") or []
    if speed and speed[0].get("vs_eager"):
        s = speed[0]
        return f"{s['vs_eager']:.2f}x vs eager" + (
            f", {s['vs_compile']:.2f}x vs compile" if s.get("vs_compile") else "")
    return f"verified {values['verification']['status']}, correct (CPU: no timing)"


class _StopAfterNode:
    """Ctrl-C asks the run to stop once the node in flight has finished and been checkpointed;
    a second Ctrl-C stops at once (the checkpoint still lets the next run resume)."""

    def __init__(self):
        self.requested = False

    def __enter__(self):
        self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, *_):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self.previous)
        return False


def run_docket(lab: Lab, *, max_tasks: int, device: str, max_attempts: int = 3,
               search_budget: int = 4, forever: bool = False, poll_seconds: float = 10.0,
               backends: dict[str, str] | None = None, budget_usd: float | None = None,
               progress=lambda msg: None) -> list[Outcome]:
    """`backends` (role -> "models" | "offline") defaults to what `models.choose_backends`
    finds; the spend cap defaults to `[models] budget_usd`."""
    from agents.models import choose_backends, load_models, start_run
    models = load_models(lab.config)
    if backends is None:
        backends = choose_backends(models)[0]
    start_run(budget_usd if budget_usd is not None else models.budget_usd)
    with _StopAfterNode() as stop:
        return _run(lab, max_tasks, device, max_attempts, search_budget, forever, poll_seconds,
                    backends, progress, stop)


def _run(lab, max_tasks, device, max_attempts, search_budget, forever, poll_seconds, backends,
         progress, stop) -> list[Outcome]:
    from agents.models import SpendCapReached
    graph = _graph(lab)
    store = lab.store()
    outcomes: list[Outcome] = []
    while len(outcomes) < max_tasks and not stop.requested:
        d = docket_mod.load(lab.docket_path)
        states = store.all()
        resumable = [t for t in d.tasks if states.get(t.id) and states[t.id].status == "in-progress"]
        task = resumable[0] if resumable else d.next_task(skip=store.held(),
                                                          done=lab.with_evidence(d))
        if task is None:
            if not forever:
                break
            progress(f"nothing to do; watching {lab.docket_path.name} for new tasks")
            _wait_for_change(lab.docket_path, poll_seconds, stop)
            continue
        row = states.get(task.id)
        rounds = row.rounds if row else 0
        config = _thread(lab, task.id, rounds, device)
        snapshot = graph.get_state(config)
        if snapshot.next and "await_approval" not in snapshot.next:
            progress(f"{task.id}: resuming at {', '.join(snapshot.next)}")
            payload = None
        else:
            payload = {"task_id": task.id, "docket_key": lab.docket_key,
                       "max_attempts": max_attempts, "search_budget": search_budget,
                       "backend": backends}
        start = time.monotonic()
        try:
            for update in graph.stream(payload, config, stream_mode="updates", durability="sync"):
                for node, values in update.items():
                    if node == "__interrupt__":
                        continue
                    attempt = (values or {}).get("attempt") or \
                        graph.get_state(config).values.get("attempt")
                    progress(f"{task.id}: {node} done (attempt {attempt or '-'}, "
                             f"{time.monotonic() - start:.0f} s)")
                if stop.requested:
                    progress(f"{task.id}: stopped after this node (checkpointed); run again to "
                             "resume")
                    break
        except SpendCapReached as err:
            progress(f"{task.id}: {err}; the task resumes from its checkpoint on the next run")
            outcomes.append(Outcome(task.id, task.title, "spend-cap", str(err), None))
            break
        values = graph.get_state(config).values
        if stop.requested and graph.get_state(config).next and values.get("outcome") is None:
            outcomes.append(Outcome(task.id, task.title, "stopped", "resumes on the next run",
                                    values.get("branch")))
            break
        outcomes.append(Outcome(task.id, task.title, values.get("outcome", "?"), _summary(values),
                                values.get("branch")))
    return outcomes


def _wait_for_change(path, poll_seconds: float, stop) -> None:
    before = path.stat().st_mtime_ns
    while not stop.requested and path.stat().st_mtime_ns == before:
        time.sleep(poll_seconds)


# the researcher's side ----------------------------------------------------------------------
def _blob(lab: Lab, rev_path: str) -> bytes | None:
    proc = subprocess.run(["git", "-C", str(lab.root), "show", rev_path], capture_output=True)
    return proc.stdout if proc.returncode == 0 else None


def _awaiting(lab: Lab, task_id: str):
    from tools.git import branch_name
    row = lab.store().all().get(task_id)
    if row is None or row.status != "awaiting-review":
        raise DecisionError(f"{task_id} is not awaiting review"
                            + (f" (it is {row.status})" if row else ""))
    return row, branch_name(task_id)


def approve(lab: Lab, task_id: str) -> str:
    """Check the evidence, merge the branch into main with the docket ticked, resume the graph."""
    import hashlib

    from git import Repo

    from tools.git import main_branch, remove_worktree
    row, branch = _awaiting(lab, task_id)
    rid = f"results/{task_id}"
    raw = _blob(lab, f"{branch}:{rid}/evidence.json")
    if raw is None:
        raise DecisionError(f"{branch} has no {rid}/evidence.json: nothing to approve")
    ev = json.loads(raw)
    for key in ("problem", "kernel"):
        data = _blob(lab, f"{branch}:{rid}/{key}.py")
        if data is None or hashlib.sha256(data).hexdigest() != ev["files"][f"{key}_sha256"]:
            raise DecisionError(f"{rid}/{key}.py on {branch} does not match its evidence "
                                "(changed after it was measured): re-run the task")
    repo = Repo(lab.root)
    main = main_branch(repo)
    if repo.active_branch.name != main:
        raise DecisionError(f"check out {main} first (now on {repo.active_branch.name})")
    docket_rel = lab.docket_key
    if repo.git.status("--porcelain", "--", docket_rel).strip():
        raise DecisionError(f"{docket_rel} has uncommitted changes: commit or stash them first")
    head = repo.commit(branch).hexsha
    line = evidence_line(ev, rid, head[:7])
    repo.git.merge("--no-ff", "--no-commit", branch)
    try:
        d = docket_mod.load(lab.docket_path)
        d.tick(task_id, evidence=line)
        d.save()
        records = record_knowledge(lab, ev, head)
        repo.git.add("--", docket_rel, "knowledge")
        repo.git.commit("-m", f"autodocket: approve {task_id}: {line}", "--no-verify")
    except Exception:
        repo.git.merge("--abort")
        raise
    lab.knowledge().add(records)
    graph = _graph(lab)
    graph.invoke(Command(resume={"decision": "approve"}), _thread(lab, task_id, row.rounds))
    lab.store().clear(task_id)
    remove_worktree(lab.root, task_id)
    repo.git.branch("-d", branch)
    return line


def record_knowledge(lab: Lab, ev: dict, commit_sha: str) -> list:
    """Append an approved task's facts (and the decision) to knowledge/facts.jsonl and
    regenerate knowledge/KNOWLEDGE.md; git is the record, the database its index."""
    from datetime import datetime, timezone

    from memory.facts import KNOWLEDGE_DIR, evidence_records, knowledge_markdown
    from memory.kg import FactRecord, read_jsonl, write_jsonl
    tid = ev["task"]["id"]
    records = evidence_records(ev, commit_sha, ev["recorded_at"]) + [FactRecord(
        ("task", tid), "decision", value="approved", slot=f"task:{tid}|decision", task_id=tid,
        commit_sha=commit_sha, evidence_path=f"results/{tid}/evidence.json",
        valid_from=datetime.now(timezone.utc).isoformat(timespec="seconds"))]
    folder = lab.root / KNOWLEDGE_DIR
    everything = read_jsonl(folder / "facts.jsonl") + records
    write_jsonl(folder / "facts.jsonl", everything)
    (folder / "KNOWLEDGE.md").write_text(knowledge_markdown(everything), encoding="utf-8")
    return records


def rebuild_knowledge(lab: Lab) -> int:
    """The database from the repository alone: the docket's history and knowledge/facts.jsonl."""
    from memory.facts import KNOWLEDGE_DIR, docket_records
    from memory.kg import read_jsonl, reset
    engine = make_engine(lab.database_url)
    reset(engine)
    kg = lab.knowledge()
    d = docket_mod.load(lab.docket_path)
    return kg.add(docket_records(d, lab.root, lab.docket_key) +
                  read_jsonl(lab.root / KNOWLEDGE_DIR / "facts.jsonl"))


def evidence_line(ev: dict, rid: str, sha: str) -> str:
    speed = ev.get("speedups") or []
    if speed and speed[0].get("vs_eager"):
        s = speed[0]
        best = (f"{s['vs_compile']:.2f}x vs torch.compile" if s.get("vs_compile")
                else f"{s['vs_eager']:.2f}x vs eager")
        what = f"{best} on {ev['device'].get('name')}"
    else:
        what = f"verified {ev['verification']['status']}, correct on the CPU interpreter (no timing)"
    return f"{what} ({rid}/evidence.json, commit {sha})"


def reject(lab: Lab, task_id: str, reason: str, park: bool = False) -> str:
    row, _ = _awaiting(lab, task_id)
    graph = _graph(lab)
    graph.invoke(Command(resume={"decision": "reject", "reason": reason, "park": park}),
                 _thread(lab, task_id, row.rounds))
    values = graph.get_state(_thread(lab, task_id, row.rounds)).values
    if values.get("outcome") == "queued":
        lab.store().set(task_id, "queued", values.get("reason"), new_round=True)
    return values.get("outcome", "?")
