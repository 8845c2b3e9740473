"""autodocket's per-user cache (`$XDG_CACHE_HOME/autodocket`, else `~/.cache/autodocket`):
verifier reports and the card's measured ceilings. Workers on one machine share it."""
from __future__ import annotations

import os
from pathlib import Path


def cache_path(*parts: str) -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root, "autodocket", *parts)


def write_atomic(path: Path, text: str) -> None:
    """Another worker may read while this one writes: it sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(text)
    os.replace(partial, path)
