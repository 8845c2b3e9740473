"""Database engines: a SQLite file in the lab's `.autodocket/` by default, PostgreSQL by URL."""
from __future__ import annotations

import fcntl
import functools
import os
import time
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



SCHEMA_LOCK = 727001  # PostgreSQL advisory lock key: whoever changes autodocket's schema holds it


@contextmanager
def schema_lock(scalar):
    """Hold the schema lock on a PostgreSQL session in autocommit mode; `scalar(sql)` runs a
    query there and returns its first column. Polled with try-lock, not waited on: a statement
    blocked on the lock would hold a snapshot that LangGraph's CREATE INDEX CONCURRENTLY (in
    another worker, under the lock) waits for, a deadlock."""
    while not scalar(f"SELECT pg_try_advisory_lock({SCHEMA_LOCK})"):
        time.sleep(0.05)
    try:
        yield
    finally:
        scalar(f"SELECT pg_advisory_unlock({SCHEMA_LOCK})")


@contextmanager
def schema_transaction(engine: Engine):
    """A connection for schema changes, safe when several workers start at once (two
    concurrent CREATE TABLEs of one name fail: SQLite's check-then-create races, PostgreSQL
    conflicts in its catalog)."""
    if engine.dialect.name == "sqlite":  # one host: a file lock beside the database
        database = engine.url.database
        lock = Path(f"{database}.schema-lock") if database and database != ":memory:" \
            else None
        with (lock.open("a") if lock else open(os.devnull)) as handle:
            if lock:
                fcntl.flock(handle, fcntl.LOCK_EX)
            with engine.begin() as conn:
                yield conn
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        with schema_lock(lambda sql: conn.execute(text(sql)).scalar()):
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
