"""Database engines: a SQLite file in the lab's `.autodocket/` by default, PostgreSQL by URL."""
from __future__ import annotations

import functools
from pathlib import Path

from sqlalchemy import Engine, create_engine, event


def sqlite_url(state_dir: Path) -> str:
    return f"sqlite:///{state_dir / 'autodocket.db'}"


@functools.cache  # one engine (and connection pool) per database for the whole process
def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        # several processes (CLI, loop, workers) share the file: wait on locks, don't fail
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_pre_ping=True)
