"""Git for agent work: one branch and worktree per task, never the researcher's working tree.

Branch `autodocket/<task-id>`, worktree `.autodocket/worktrees/<task-id>`, both created from the
lab's main branch. Every operation is idempotent: an existing worktree is reused, a commit is
made only when files changed, so a run killed at any point and resumed makes one branch and one
commit series.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from git import GitCommandError, Repo


def without_hooks() -> None:
    """Every git this process runs (GitPython's and our own) runs with hooks turned off: a
    hook in the lab's .git/hooks is code nobody reviewed, and it would run with the model
    keys in its environment. Git's own environment configuration (git >= 2.31) reaches every
    git child; an existing GIT_CONFIG_COUNT is extended, not replaced."""
    if os.environ.get("AUTODOCKET_GIT_HOOKS_OFF") == "1":
        return
    count = int(os.environ.get("GIT_CONFIG_COUNT", "0") or 0)
    os.environ.update({"GIT_CONFIG_COUNT": str(count + 1),
                       f"GIT_CONFIG_KEY_{count}": "core.hooksPath",
                       f"GIT_CONFIG_VALUE_{count}": os.devnull,
                       "AUTODOCKET_GIT_HOOKS_OFF": "1"})


without_hooks()

BRANCH_PREFIX = "autodocket/"
_SAFE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class GitError(RuntimeError):
    pass


def _check_id(task_id: str) -> str:
    if not _SAFE.match(task_id):  # ids come from docket text: never let one become an option
        raise GitError(f"task id {task_id!r} is not a safe branch name")
    return task_id


def branch_name(task_id: str) -> str:
    return BRANCH_PREFIX + _check_id(task_id)


def main_branch(repo: Repo) -> str:
    for name in ("main", "master"):
        if name in repo.heads:
            return name
    return repo.active_branch.name


def ensure_worktree(lab_root: Path, task_id: str, remote: str | None = None) -> Repo:
    """The task's worktree, created on first use: from the remote's branch when another worker
    already pushed one, else from main."""
    repo = Repo(lab_root)
    path = lab_root / ".autodocket" / "worktrees" / _check_id(task_id)
    branch = branch_name(task_id)
    if (path / ".git").exists():
        worktree = Repo(path)
        _clear_stale_locks(worktree, branch)
        return worktree
    repo.git.worktree("prune")
    if remote:
        repo.git.fetch(remote, "--prune")
    if branch in repo.heads:
        repo.git.worktree("add", str(path), branch)
    elif remote and f"{remote}/{branch}" in [r.name for r in repo.remotes[remote].refs]:
        repo.git.worktree("add", "-b", branch, str(path), f"{remote}/{branch}")
    else:
        repo.git.worktree("add", "-b", branch, str(path), main_branch(repo))
    return Repo(path)


def fetch_agent_branches(lab_root: Path, remote: str) -> None:
    """The agents' branches from the shared remote, as local branches (the remote is their
    authority: workers push there)."""
    Repo(lab_root).git.fetch(remote, "--prune", f"+refs/heads/{BRANCH_PREFIX}*:"
                             f"refs/heads/{BRANCH_PREFIX}*")


def publish_approval(lab_root: Path, task_id: str, remote: str) -> None:
    """After an approval: main goes to the remote, the agent's branch leaves it."""
    repo = Repo(lab_root)
    repo.git.push(remote, main_branch(repo))
    repo.git.push(remote, "--delete", branch_name(task_id))


def push_branch(lab_root: Path, task_id: str, remote: str) -> None:
    branch = branch_name(task_id)
    Repo(lab_root).git.push(remote, f"{branch}:{branch}")


def _clear_stale_locks(worktree: Repo, branch: str) -> None:
    """Locks left by a git killed mid-commit. Only the task's one runner uses its worktree and
    branch (a lease guards it), so a lock found before it commits is stale."""
    common = Path(worktree.common_dir)
    for lock in (Path(worktree.git_dir) / "index.lock", common / "refs" / "heads" /
                 f"{branch}.lock", Path(worktree.git_dir) / "HEAD.lock"):
        lock.unlink(missing_ok=True)


def commit_files(worktree: Repo, files: dict[str, bytes | str], message: str) -> str:
    """Write files (paths relative to the worktree), commit if anything changed; the head sha."""
    root = Path(worktree.working_tree_dir)
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        data = content.encode() if isinstance(content, str) else content
        if not target.exists() or target.read_bytes() != data:
            target.write_bytes(data)
    worktree.git.add("--", *files.keys())
    if worktree.is_dirty(index=True, working_tree=False):
        worktree.git.commit("-m", message, "--no-verify",
                            env={"GIT_AUTHOR_NAME": "autodocket", "GIT_COMMITTER_NAME": "autodocket",
                                 "GIT_AUTHOR_EMAIL": "autodocket@localhost",
                                 "GIT_COMMITTER_EMAIL": "autodocket@localhost"})
    return worktree.head.commit.hexsha


def merges_cleanly(lab_root: Path, task_id: str) -> bool:
    """Checked with `git merge-tree` (git >= 2.38): no index or working tree is touched."""
    repo = Repo(lab_root)
    proc = subprocess.run(["git", "-C", str(lab_root), "merge-tree", "--write-tree",
                           "--name-only", "--no-messages", main_branch(repo),
                           branch_name(task_id)], capture_output=True, text=True)
    return proc.returncode == 0


def remove_worktree(lab_root: Path, task_id: str) -> None:
    path = lab_root / ".autodocket" / "worktrees" / _check_id(task_id)
    repo = Repo(lab_root)
    if path.exists():
        try:
            repo.git.worktree("remove", "--force", str(path))
        except GitCommandError:
            pass
    repo.git.worktree("prune")
