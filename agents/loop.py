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
import threading
import time
from dataclasses import dataclass

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.types import Command

import docket as docket_mod
import tools.git  # noqa: F401  (imported first: every git call of this process runs hook-free)
from agents.config import Lab
from agents.graph import LeaseLost, build
from agents.lab_view import blob
from memory.db import make_engine, schema_lock


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
        with schema_lock(lambda sql: next(iter(conn.execute(sql).fetchone().values()))):
            saver.setup()  # idempotent: creates or migrates the checkpoint tables
    else:
        lab.state_dir.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(lab.state_dir / "checkpoints.sqlite", check_same_thread=False)
        saver = SqliteSaver(conn)
    return build().compile(checkpointer=saver)


def _thread(lab: Lab, task_id: str, rounds: int, device: str = "cpu",
            remote: str | None = None, worker_id: str | None = None,
            lease_s: float | None = None) -> dict:
    """The task's LangGraph thread, and what belongs to this machine and run (see
    agents/graph.py): the worker holding the task's lease commits only while it holds it."""
    return {"configurable": {"thread_id": f"{task_id}.{rounds}", "lab_root": str(lab.root),
                             "device": device, "remote": remote, "worker_id": worker_id,
                             "lease_s": lease_s}}


def _summary(values: dict) -> str:
    if values.get("outcome") != "awaiting-review":
        return values.get("reason", "")
    from agents.report import result_phrase
    m = values.get("measurement") or {}
    return result_phrase(m.get("speedups") or [], None, m.get("criteria"),
                         values["verification"]["status"])


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


@dataclass
class RunSettings:
    device: str = "cpu"
    max_attempts: int = 3
    search_budget: int = 4
    backends: dict | None = None  # role -> "models" | "offline"; None: as reachable
    remote: str | None = None  # shared git remote that workers pull from and push to
    lease_s: float = 60.0


def task_order(lab: Lab, d, store) -> list[str]:
    """Tasks to claim, in order: ones a killed run left in progress, then open ones."""
    states = store.all()
    resumable = [t.id for t in d.tasks
                 if states.get(t.id) and states[t.id].status == "in-progress"]
    return resumable + [t.id for t in d.open_tasks(skip=store.held(),
                                                   done=lab.with_evidence(d))]


def claim_next(lab: Lab, leases, worker_id: str, store) -> tuple[str | None, list[str]]:
    """The next task for this worker, leased to it (None if none is free), and the order it came
    from. A task in progress elsewhere stays in the order, so another worker may finish it and
    release its lease between our reading the order and claiming: the order is read again once
    a lease is won, and a task no longer in it is let go rather than run a second time."""
    order = task_order(lab, docket_mod.load(lab.docket_path), store)
    while order:
        task_id = leases.claim(worker_id, order)
        if task_id is None:
            break
        order = task_order(lab, docket_mod.load(lab.docket_path), store)
        if task_id in order:
            return task_id, order
        leases.release(worker_id, task_id)
    return None, order


def run_docket(lab: Lab, settings: RunSettings, *, max_tasks: int, worker_id: str | None = None,
               wait_for_others: bool = False, forever: bool = False,
               poll_seconds: float = 10.0, budget_usd: float | None = None,
               progress=lambda msg: None) -> list[Outcome]:
    """Claim tasks (a lease per task, so runs and workers sharing the database never run one
    task twice) and take each through the graph. Stops after `max_tasks`, when nothing is left
    to claim (`wait_for_others`: when nothing is left at all, tasks leased by other workers
    included), or never (`forever`). The spend cap defaults to `[models] budget_usd`."""
    from agents.models import choose_backends, load_models, start_run
    from memory.leases import Leases, default_worker_id
    models = load_models(lab.config)
    if settings.backends is None:
        settings.backends = choose_backends(models)[0]
    start_run(budget_usd if budget_usd is not None else models.budget_usd)
    worker_id = worker_id or default_worker_id(settings.device)
    leases = Leases(make_engine(lab.database_url), lab.docket_key, settings.lease_s)
    leases.register(worker_id, settings.device)
    graph, store = _graph(lab), lab.store()
    outcomes: list[Outcome] = []
    with _StopAfterNode() as stop:
        try:
            while len(outcomes) < max_tasks and not stop.requested:
                if settings.remote:
                    sync_main(lab, settings.remote)
                task_id, order = claim_next(lab, leases, worker_id, store)
                if task_id is None:
                    if not (forever or wait_for_others and order):
                        break
                    leases.beat(worker_id, state="idle", task_id=None, stage=None)
                    progress("nothing to claim now; waiting" if order else
                             f"nothing to do; watching {lab.docket_path.name} for new tasks")
                    _sleep(poll_seconds, stop)
                    continue
                with _Heartbeat(leases, worker_id, task_id) as beat:
                    outcome = _run_task(graph, lab, store, task_id, settings, progress,
                                        stop, beat)
                leases.release(worker_id, task_id)
                leases.beat(worker_id, state="idle", task_id=None, stage=outcome.outcome,
                            finished=outcome.outcome not in ("stopped", "lost-lease",
                                                             "spend-cap"))
                outcomes.append(outcome)
                if outcome.outcome in ("stopped", "spend-cap"):
                    break
        finally:
            leases.beat(worker_id, state="stopped", task_id=None)
    return outcomes


def _run_task(graph, lab: Lab, store, task_id: str, settings: RunSettings, progress, stop,
              beat) -> Outcome:
    from agents.models import SpendCapReached
    row = store.all().get(task_id)
    config = _thread(lab, task_id, row.rounds if row else 0, settings.device, settings.remote,
                     beat.worker_id, settings.lease_s)
    snapshot = graph.get_state(config)
    if _resume_at(snapshot) and _text_changed(lab, task_id, snapshot.values):
        # planned from words the researcher has since changed: plan it again, from the start
        progress(f"{task_id}: its text changed since it was planned; planning it again")
        store.set(task_id, "in-progress", "the task's text changed: planned again",
                  new_round=True)
        config = _thread(lab, task_id, store.all()[task_id].rounds, settings.device,
                         settings.remote, beat.worker_id, settings.lease_s)
        snapshot = graph.get_state(config)
    if resume_at := _resume_at(snapshot):
        progress(f"{task_id}: resuming at {', '.join(resume_at)}")
        payload = None
    else:
        payload = {"task_id": task_id, "docket_key": lab.docket_key,
                   "max_attempts": settings.max_attempts,
                   "search_budget": settings.search_budget, "backend": settings.backends}
    start = time.monotonic()
    try:
        for update in graph.stream(payload, config, stream_mode="updates", durability="sync"):
            for node, values in update.items():
                if node == "__interrupt__":
                    continue
                attempt = (values or {}).get("attempt") or \
                    graph.get_state(config).values.get("attempt")
                stage = f"{node} done (attempt {attempt or '-'}, {time.monotonic() - start:.0f} s)"
                beat.stage = stage
                progress(f"{task_id}: {stage}")
            if beat.lost:
                raise LeaseLost(f"{task_id}: lease lost to another worker")
            if stop.requested:
                progress(f"{task_id}: stopped after this node (checkpointed); run again to "
                         "resume")
                break
    except LeaseLost as err:  # from the heartbeat, or from the commit node's own check
        progress(f"{err}; leaving the task to it (its checkpoint stays)")
        return Outcome(task_id, "", "lost-lease", "another worker holds it now", None)
    except SpendCapReached as err:
        progress(f"{task_id}: {err}; the task resumes from its checkpoint on the next run")
        return Outcome(task_id, "", "spend-cap", str(err), None)
    snapshot = graph.get_state(config)
    values = snapshot.values
    if stop.requested and _resume_at(snapshot) and values.get("outcome") is None:
        return Outcome(task_id, values.get("title", ""), "stopped", "resumes on the next run",
                       values.get("branch"))
    return Outcome(task_id, values.get("title", ""), values.get("outcome", "?"),
                   _summary(values), values.get("branch"))


def _resume_at(snapshot) -> tuple[str, ...]:
    """The nodes a thread killed mid-run resumes at; () for a thread never started, ended, or
    waiting for the researcher's approval. A node whose writes were saved before the process
    died, but not yet the checkpoint after it, is no longer in `next` (LangGraph counts it
    done, and applies its writes on resuming): its step's tasks still say where the run was."""
    pending = snapshot.next or tuple(task.name for task in snapshot.tasks)
    return () if "await_approval" in pending else pending


def _text_changed(lab: Lab, task_id: str, values: dict) -> bool:
    """Whether the task a checkpoint was planned from reads differently in the docket now."""
    from agents.graph import sub_item_text, task_text
    if "title" not in values:  # not selected yet: nothing was planned from it
        return False
    task = next((t for t in docket_mod.load(lab.docket_path).tasks if t.id == task_id), None)
    return task is not None and (task.title, task_text(task), sub_item_text(task)) != \
        (values["title"], values.get("text", ""), values.get("notes", ""))


class _Heartbeat:
    """Extends the task's lease (and says the worker's stage) every third of the lease, in a
    thread; `lost` turns true if another worker took the lease meanwhile."""

    def __init__(self, leases, worker_id: str, task_id: str):
        self.leases, self.worker_id, self.task_id = leases, worker_id, task_id
        self.stage, self.lost = "claimed", False
        self._done = threading.Event()

    def __enter__(self):
        self._beat()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def _beat(self):
        if not self.leases.renew(self.worker_id, self.task_id):
            self.lost = True
        self.leases.beat(self.worker_id, state="running", task_id=self.task_id,
                         stage=self.stage)

    def _loop(self):
        while not self._done.wait(self.leases.ttl.total_seconds() / 3):
            try:
                self._beat()
            except Exception:  # noqa: BLE001 - database unreachable: the lease may lapse
                self.lost = True  # so leave the task after this node; its checkpoint stays
                return

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()
        return False


def sync_main(lab: Lab, remote: str) -> None:
    """A worker's clone follows the shared remote's main (approvals land there)."""
    from git import Repo

    from tools.git import main_branch
    repo = Repo(lab.root)
    main = main_branch(repo)
    repo.git.fetch(remote, main)
    repo.git.merge("--ff-only", f"{remote}/{main}")


def _sleep(seconds: float, stop) -> None:
    end = time.monotonic() + seconds
    while not stop.requested and time.monotonic() < end:
        time.sleep(min(0.5, end - time.monotonic()))


# the researcher's side ----------------------------------------------------------------------
def _awaiting(lab: Lab, task_id: str):
    from tools.git import branch_name
    row = lab.store().all().get(task_id)
    if row is None or row.status != "awaiting-review":
        raise DecisionError(f"{task_id} is not awaiting review"
                            + (f" (it is {row.status})" if row else ""))
    return row, branch_name(task_id)


def approve(lab: Lab, task_id: str) -> str:
    """Merge the loop's own commit, and nothing else, with the docket ticked; resume the graph.

    Refused (DecisionError, with the reason) unless: the branch's tip is the commit the loop
    recorded in the task's checkpoint; every file it changes is under results/<task-id>/; the
    problem and kernel it merges hash to what the loop measured; a fresh verification of them
    agrees with the evidence's; and the docket still holds exactly one open task with the text
    the loop worked on."""
    from git import Repo

    from tools.git import main_branch, remove_worktree
    row, branch = _awaiting(lab, task_id)
    rid = f"results/{task_id}"
    repo = Repo(lab.root)
    main = main_branch(repo)
    if repo.active_branch.name != main:
        raise DecisionError(f"check out {main} first (now on {repo.active_branch.name})")
    graph = _graph(lab)
    thread = _thread(lab, task_id, row.rounds)
    state = graph.get_state(thread).values
    ev = _checked_evidence(lab, repo, main, branch, rid, state)
    docket_rel = lab.docket_key
    if repo.git.status("--porcelain", "--", docket_rel).strip():
        raise DecisionError(f"{docket_rel} has uncommitted changes: commit or stash them first")
    task = locate_task(docket_mod.load(lab.docket_path), state)
    line = evidence_line(ev, rid, state["commit"][:7])
    repo.git.merge("--no-ff", "--no-commit", branch)
    try:
        d = docket_mod.load(lab.docket_path)
        d.tick(task.id, evidence=line)
        d.save()
        records = record_knowledge(lab, ev, state["commit"])
        repo.git.add("--", docket_rel, "knowledge")
        repo.git.commit("-m", f"autodocket: approve {task_id}: {line}", "--no-verify")
    except Exception:
        repo.git.merge("--abort")
        raise
    lab.knowledge().add(records)
    graph.invoke(Command(resume={"decision": "approve"}), thread)
    lab.store().clear(task_id)
    remove_worktree(lab.root, task_id)
    repo.git.branch("-d", branch)
    return line


def _checked_evidence(lab: Lab, repo, main: str, branch: str, rid: str, state: dict) -> dict:
    """The branch's evidence, once the branch is shown to hold only the loop's own work."""
    import hashlib
    import tempfile
    from pathlib import Path

    from tools.verify import verify
    recorded = state.get("commit")
    if not recorded:
        raise DecisionError(f"no checkpoint records the loop's commit for {branch}: its work "
                            "cannot be told from anyone else's; re-run the task")
    tip = repo.commit(branch).hexsha
    if tip != recorded:
        raise DecisionError(f"{branch} is at {tip[:7]}, not at the commit the loop made "
                            f"({recorded[:7]}): commits from elsewhere are on it; reject it or "
                            "re-run the task")
    base = repo.git.merge_base(main, branch)
    changed = [p for p in repo.git.diff("--name-only", "--no-renames", base, tip).splitlines()
               if p]
    outside = [p for p in changed if not p.startswith(rid + "/")]
    if outside:
        raise DecisionError(f"{branch} changes files outside {rid}/: " + ", ".join(outside[:10])
                            + (f" and {len(outside) - 10} more" if len(outside) > 10 else ""))
    raw = blob(lab, f"{tip}:{rid}/evidence.json")
    if raw is None:
        raise DecisionError(f"{branch} has no {rid}/evidence.json: nothing to approve")
    ev = json.loads(raw)
    files = {}
    for key in ("problem", "kernel"):
        data = blob(lab, f"{tip}:{rid}/{key}.py")
        digest = hashlib.sha256(data or b"").hexdigest()
        loop_made = hashlib.sha256(state.get(f"{key}_source", "").encode()).hexdigest()
        if data is None or digest != ev["files"][f"{key}_sha256"] or digest != loop_made:
            raise DecisionError(f"{rid}/{key}.py on {branch} is not the file the loop measured: "
                                "re-run the task")
        files[key] = data
    if ev.get("task", {}).get("id") != state["task_id"] or \
            ev["task"].get("text") != state.get("text"):
        raise DecisionError(f"{rid}/evidence.json is not the evidence of task {state['task_id']}")
    # the verdict, recomputed (cached: quick) over the launches the run verified: on a GPU
    # the card's, which the checkpoint keeps (a persistent grid differs from the CPU's); where
    # the card recorded none, nothing was proved and the checkpoint's `unknown` stands
    verified = state.get("verification") or {}
    if verified.get("launches_on") == "cuda" and state.get("launch_record") is None:
        status = verified["status"]
    else:
        with tempfile.TemporaryDirectory() as folder:
            paths = {k: Path(folder) / f"{k}.py" for k in files}
            for key, path in paths.items():
                path.write_bytes(files[key])
            status = verify(paths["problem"], paths["kernel"],
                            launches=state.get("launch_record")).status
    if status != ev["verification"]["status"]:
        raise DecisionError(f"the evidence says verification {ev['verification']['status']}, "
                            f"a fresh verification of the merged files says {status}")
    return ev


def locate_task(d, state: dict):
    """The docket task the loop worked on, found by its text, not by its id alone: a task with
    the same title added above it takes over its id. Refused if it is gone, changed, or
    ambiguous."""
    from agents.graph import task_text
    same = [t for t in d.tasks if not t.checked and t.title == state["title"]
            and task_text(t) == state.get("text", "")]
    if len(same) > 1:
        same = [t for t in same if t.line == state.get("line")] or same
    if not same:
        raise DecisionError(f"no open task reads as the one the loop worked on "
                            f"({state['title']!r}): it was edited, ticked or removed since")
    if len(same) > 1:
        raise DecisionError(f"{len(same)} open tasks read {state['title']!r} word for word "
                            f"(lines {', '.join(str(t.line) for t in same)}): tick the right one "
                            "by hand")
    return same[0]


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
    from agents.report import result_phrase
    what = result_phrase(ev.get("speedups") or [], (ev.get("device") or {}).get("name"),
                         ev.get("criteria"), ev["verification"]["status"])
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
