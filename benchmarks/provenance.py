"""Which code a measurement came from, for the JSON a benchmark writes."""
from __future__ import annotations

from pathlib import Path

from git import Repo

ROOT = Path(__file__).resolve().parents[1]


def commit() -> str | None:
    """HEAD, marked when the files measured differ from it (a copied tree whose .git lags)."""
    try:
        repo = Repo(ROOT)
        return repo.head.commit.hexsha + (" + uncommitted changes" if repo.is_dirty() else "")
    except Exception:  # a copy of the tree without its .git
        return None
