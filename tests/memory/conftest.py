import os
import uuid

import pytest

from memory.db import make_engine

PG_ADMIN = os.environ.get("AUTODOCKET_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """The same tests against a SQLite file and the real PostgreSQL server on loopback."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kg.db'}"
        return
    import psycopg
    name = f"autodocket_test_{uuid.uuid4().hex[:10]}"
    admin = PG_ADMIN.replace("postgresql://", "postgresql://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = admin.rsplit("/", 1)[0] + "/" + name
    yield url
    make_engine(url).dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
