"""What the researcher's views read (the CLI's `show`, `prs` and `scoreboard`, and the lab
page): each task's status, the agents' pull requests, files on their branches. Reads only.

Files at a revision come through one long-lived `git cat-file --batch` per lab (GitPython's
persistent one) rather than a `git show` per file: a page lists a hundred branches. Parsed
evidence and merge checks are remembered by commit, so a page shown again costs no git work
for what did not change.
"""
from __future__ import annotations

import json
import threading
from datetime import datetime, timezone

from git import Repo

from agents.config import Lab

_repos: dict[str, Repo] = {}
_git_lock = threading.Lock()  # one cat-file process per repository: one reader at a time
_evidence: dict[tuple[str, str], dict] = {}  # (commit, task id) -> evidence
_merges: dict[tuple[str, str], bool] = {}  # (main's commit, branch's commit) -> clean


def repo_of(lab: Lab) -> Repo:
    key = str(lab.root.resolve())
    if key not in _repos:
        _repos[key] = Repo(key)
    return _repos[key]


def blob(lab: Lab, rev_path: str) -> bytes | None:
    """The file at `revision:path`, or None where either is missing (one request to the
    long-lived `git cat-file --batch`, which resolves the path itself)."""
    with _git_lock:
        try:
            _, kind, _, data = repo_of(lab).git.get_object_data(rev_path)
        except ValueError:
            return None
        return data if kind == b"blob" else None


def statuses(lab: Lab) -> dict:
    """autodocket's own status row per task id; empty for a lab it never wrote to."""
    return lab.store().all() if lab.has_database() else {}


def status_of(task, states: dict, lab: Lab) -> str:
    from docket.audit import evidence_path
    if task.id in states and states[task.id].status != "queued":
        return states[task.id].status
    if evidence_path(lab.root, task.id).is_file():
        return "done"
    return "checked" if task.checked else "open"  # "checked": ticked, but nothing backs it


def branch_evidence(lab: Lab, commit: str, task_id: str) -> dict:
    """The evidence record a commit of a task's branch holds ({} where it holds none)."""
    key = (commit, task_id)
    if key not in _evidence:
        raw = blob(lab, f"{commit}:results/{task_id}/evidence.json")
        try:
            _evidence[key] = json.loads(raw) if raw else {}
        except ValueError:
            _evidence[key] = {}
    return _evidence[key]


def agent_heads(lab: Lab):
    """task id -> the tip commit of its autodocket/<task-id> branch; and main's commit (None
    in a repository with no commit yet)."""
    from tools.git import BRANCH_PREFIX, main_branch
    repo = repo_of(lab)
    with _git_lock:
        if not repo.heads:
            return {}, None
        heads = {h.name[len(BRANCH_PREFIX):]: h.commit for h in repo.heads
                 if h.name.startswith(BRANCH_PREFIX)}
        for commit in heads.values():
            commit.committed_datetime  # read now, under the lock (the object loads lazily)
        return heads, repo.heads[main_branch(repo)].commit.hexsha


def agent_head(lab: Lab, task_id: str):
    """The tip commit of autodocket/<task-id> (read under the lock), or None."""
    from tools.git import BRANCH_PREFIX
    with _git_lock:
        try:
            commit = repo_of(lab).heads[BRANCH_PREFIX + task_id].commit
        except (IndexError, ValueError):
            return None
        commit.committed_datetime  # read now, under the lock (the object loads lazily)
        return commit


def _descends_from(commit, ancestor: str, depth: int = 8) -> bool:
    """Is `ancestor` among the commit's first few ancestors? (A branch the loop made on top of
    today's main merges cleanly, with no merge to try.) Walked in process."""
    frontier = [commit]
    for _ in range(depth):
        with _git_lock:
            frontier = [p for c in frontier for p in c.parents]
        if any(c.hexsha == ancestor for c in frontier):
            return True
        if not frontier:
            return False
    return False


def _merge_status(lab: Lab, main_commit: str, heads: dict) -> dict[str, bool]:
    """task id -> merges into main without conflict: known by descent, else by a trial merge
    (`git merge-tree`, several at once); remembered per (main, tip) pair."""
    from concurrent.futures import ThreadPoolExecutor

    from tools.git import merges_cleanly
    todo = {}
    for task_id, head in heads.items():
        key = (main_commit, head.hexsha)
        if key not in _merges:
            if _descends_from(head, main_commit):
                _merges[key] = True
            else:
                todo[task_id] = key
    with ThreadPoolExecutor(8) as pool:
        for (task_id, key), clean in zip(todo.items(), pool.map(
                lambda t: merges_cleanly(lab.root, t), todo)):
            _merges[key] = clean
    return {t: _merges[(main_commit, h.hexsha)] for t, h in heads.items()}


def pull_requests(lab: Lab) -> list[dict]:
    """One row per autodocket/<task-id> branch: what was measured and how it stands."""
    from agents.criteria import summary
    from agents.report import guarantee, measured_phrase
    heads, main_commit = agent_heads(lab)
    clean = _merge_status(lab, main_commit, heads)
    rows = []
    now = datetime.now(timezone.utc)
    for task_id, head in sorted(heads.items()):
        ev = branch_evidence(lab, head.hexsha, task_id)
        speed = (ev.get("speedups") or [{}])[0]
        consensus = ev.get("council", {}).get("consensus", {})
        rows.append({
            "task_id": task_id, "title": ev.get("task", {}).get("title"),
            "attempts": ev.get("attempts"), "verified": ev.get("verification", {}).get("status"),
            "guarantee": guarantee(ev) if ev.get("verification") else None,
            "measured": measured_phrase(ev), "criterion": summary(ev.get("criteria") or []),
            "correct": ev.get("correctness", {}).get("status") == "correct",
            "vs_eager": speed.get("vs_eager"), "vs_compile": speed.get("vs_compile"),
            "card": (ev.get("device") or {}).get("name"),
            "council": f"{consensus.get('approvals')}/{consensus.get('seats')} approve"
            if consensus else None,
            "merges_cleanly": clean[task_id],
            "age_hours": round((now - head.committed_datetime).total_seconds() / 3600, 1),
            "commit": head.hexsha[:7]})
    return rows


def diff_against_main(lab: Lab, task_id: str) -> str:
    """What approving would merge: the branch's changes since it left main."""
    from tools.git import branch_name, main_branch
    repo = repo_of(lab)
    with _git_lock:
        return repo.git.diff(f"{main_branch(repo)}...{branch_name(task_id)}", "--no-color",
                             "--no-ext-diff")
