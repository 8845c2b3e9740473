"""Database engines: a SQLite file in the lab's `.autodocket/` by default, PostgreSQL by URL."""
from __future__ import annotations

import functools
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text


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



@contextmanager
def schema_transaction(engine: Engine):
    """A transaction for schema changes, safe when several workers start at once: on
    PostgreSQL under an advisory lock (two concurrent CREATE TABLEs of one name fail on a
    catalog conflict)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(727001)"))  # autodocket's schema
        yield conn


def create_tables(engine: Engine, metadata, tables) -> None:
    with schema_transaction(engine) as conn:
        metadata.create_all(conn, tables=tables)


def dialect_insert(engine: Engine):
    """The dialect's `insert`, which has `on_conflict_do_nothing` (concurrent writers)."""
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert
