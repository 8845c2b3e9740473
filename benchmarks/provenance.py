"""Which code a measurement came from, for the JSON a benchmark writes."""
from __future__ import annotations

from pathlib import Path

from git import Repo

ROOT = Path(__file__).resolve().parents[1]


def commit() -> str | None:
    """HEAD, marked when the files measured differ from it (a copied tree whose .git lags, as
    on the GPU machine, whose copy carries the session's first commit and the rest as
    changes): then with the tracked files' tree hash, which names the commit that holds
    exactly these files (`git log --format='%H %T' | grep TREE`)."""
    try:
        repo = Repo(ROOT)
        head = repo.head.commit.hexsha
        if not repo.is_dirty():
            return head
        snapshot = repo.git.stash("create")  # a commit of the working tree; nothing changes
        return f"{head} + uncommitted changes (tree {repo.git.rev_parse(snapshot + '^{tree}')})"
    except Exception:  # a copy of the tree without its .git
        return None
