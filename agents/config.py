"""Where a lab lives: its root, docket, `.autodocket/` state folder and database URL.

Looked up from `autodocket.toml` at the lab root (the nearest folder above the docket or the
working directory holding `autodocket.toml` or `.git`):

    [lab]
    docket = "DOCKET.md"
    database_url = "postgresql://host/lab"   # optional; AUTODOCKET_DATABASE_URL wins
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DOCKETS = ("DOCKET.md", "docket.md")


class ConfigError(ValueError):
    """Bad or missing configuration (exit code 2)."""


@dataclass
class Lab:
    root: Path
    docket_path: Path
    config: dict

    @property
    def state_dir(self) -> Path:
        return self.root / ".autodocket"

    @property
    def docket_key(self) -> str:
        """The docket's path from the lab root: how state rows name their docket."""
        try:
            return self.docket_path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return self.docket_path.resolve().as_posix()

    @property
    def database_url(self) -> str:
        from memory.db import sqlite_url
        return (os.environ.get("AUTODOCKET_DATABASE_URL")
                or self.config.get("lab", {}).get("database_url")
                or sqlite_url(self.state_dir))

    def store(self):
        """autodocket's task-status table for this docket."""
        from memory.db import make_engine
        from memory.state import StateStore
        return StateStore(make_engine(self.database_url), self.docket_key)

    def knowledge(self):
        from memory.db import make_engine
        from memory.kg import KnowledgeGraph
        return KnowledgeGraph(make_engine(self.database_url))

    def with_evidence(self, docket) -> set[str]:
        """Ids of the docket's tasks that have an evidence record (done, whatever the box)."""
        from docket.audit import evidence_path
        return {t.id for t in docket.tasks if evidence_path(self.root, t.id).is_file()}

    def has_database(self) -> bool:
        """False for a lab autodocket never wrote to: read-only commands then create nothing."""
        url = self.database_url
        return not url.startswith("sqlite:///") or Path(url[len("sqlite:///"):]).exists()


def _find_root(start: Path) -> Path | None:
    for folder in [start, *start.parents]:
        if (folder / "autodocket.toml").is_file() or (folder / ".git").exists():
            return folder
    return None


def _read_config(root: Path) -> dict:
    path = root / "autodocket.toml"
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: {err}") from None


def find_lab(docket: str | Path | None = None, cwd: Path | None = None) -> Lab:
    cwd = (cwd or Path.cwd()).resolve()
    if docket is not None:
        docket_path = Path(docket)
        if not docket_path.is_absolute():
            docket_path = cwd / docket_path
        # the lab is where the path given lies (a link is not followed out of it)
        parent = docket_path.parent.resolve()
        root = _find_root(parent) or parent
        return _inside(Lab(root, docket_path, _read_config(root)))
    root = _find_root(cwd) or cwd
    config = _read_config(root)
    configured = config.get("lab", {}).get("docket")
    if configured:
        return _inside(Lab(root, root / configured, config))
    for name in DEFAULT_DOCKETS:
        if (cwd / name).is_file():
            return _inside(Lab(root, cwd / name, config))
    raise ConfigError("no docket found: pass --docket PATH, or set [lab] docket in "
                      "autodocket.toml, or name the file DOCKET.md")


def _inside(lab: Lab) -> Lab:
    """autodocket edits and commits the docket inside its lab only: a docket that is a link
    to a file elsewhere would be ticked where no branch or lease of this lab can reach."""
    target = lab.docket_path.resolve()
    if not target.is_relative_to(lab.root.resolve()):
        raise ConfigError(f"{lab.docket_path} leads to {target}, outside the lab "
                          f"{lab.root}: use a docket inside the lab (copy it in, or run "
                          "autodocket in the docket's own lab)")
    return lab


def lab_here(cwd: Path | None = None) -> Lab:
    """The lab around the working directory, whatever docket a command reads (`kg
    ingest-docket` of a docket from elsewhere writes into this lab's database)."""
    cwd = (cwd or Path.cwd()).resolve()
    root = _find_root(cwd)
    if root is None:
        raise ConfigError(f"{cwd} is not inside a lab (no autodocket.toml or .git above it)")
    config = _read_config(root)
    return Lab(root, root / config.get("lab", {}).get("docket", DEFAULT_DOCKETS[0]), config)
