"""Leases and workers: many processes, on one rig or several, share one docket.

A worker claims a task by taking its lease row: on PostgreSQL it first locks the row with
`SELECT ... FOR UPDATE SKIP LOCKED` (a row another worker is claiming is skipped, not waited
on), then sets it with a compare-and-set (`UPDATE ... WHERE the lease is free or expired`) whose
row count says whether it won; SQLite has no row locks but serializes writers, so the
compare-and-set alone decides there. While the task runs, a heartbeat extends the lease; a worker
that dies stops extending it, and once it expires another worker claims the task and resumes
its checkpoint. A heartbeat that finds its lease taken tells its worker to stop. A worker whose
process is gone from this very host (a killed `run`) gives its leases up at once: no wait.

Times are the workers' clocks (UTC): rigs sharing a lab should run NTP; leases last a minute
by default, far above any skew NTP leaves.
"""
from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta, timezone

from sqlalchemy import DateTime, Engine, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from memory.db import create_tables, dialect_insert
from memory.state import Base


class Lease(Base):
    __tablename__ = "task_lease"
    docket: Mapped[str] = mapped_column(String(512), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    worker: Mapped[str | None] = mapped_column(String(200), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class Worker(Base):
    __tablename__ = "worker"
    worker_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    host: Mapped[str] = mapped_column(String(200))  # rig(): hostname and pid namespace
    pid: Mapped[int]
    device: Mapped[str] = mapped_column(String(64))
    docket: Mapped[str] = mapped_column(String(512))
    state: Mapped[str] = mapped_column(String(32))  # idle | running | stopped | dead
    task_id: Mapped[str | None] = mapped_column(String(200), default=None)
    stage: Mapped[str | None] = mapped_column(Text, default=None)
    tasks_done: Mapped[int] = mapped_column(default=0)
    lease_s: Mapped[float] = mapped_column(default=60.0)  # silent this long: `lost`
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(t: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive: they were stored as UTC."""
    return t.replace(tzinfo=timezone.utc) if t is not None and t.tzinfo is None else t


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def rig() -> str:
    """This machine as workers see it: where a worker's pid can be checked. The hostname and
    the pid namespace (containers on one host have their own); AUTODOCKET_RIG overrides it."""
    if os.environ.get("AUTODOCKET_RIG"):
        return os.environ["AUTODOCKET_RIG"]
    try:
        namespace = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        namespace = 0
    return f"{socket.gethostname()}:{namespace}"


def default_worker_id(device: str) -> str:
    return f"{socket.gethostname()}-{device}-{os.getpid()}"


class Leases:
    def __init__(self, engine: Engine, docket: str, ttl_s: float = 60.0):
        self.engine, self.docket, self.ttl = engine, docket, timedelta(seconds=ttl_s)
        create_tables(engine, Base.metadata, [Lease.__table__, Worker.__table__])

    def _free(self, now: datetime):
        return or_(Lease.worker.is_(None), Lease.expires_at < now)

    def reap_dead_local_workers(self) -> list[str]:
        """Workers of this host whose process is gone: leases freed, state `dead`."""
        with Session(self.engine) as s, s.begin():
            dead = [w.worker_id for w in s.scalars(select(Worker).where(
                Worker.host == rig(), Worker.state.in_(("idle", "running"))))
                if not _alive(w.pid)]
            if dead:
                s.execute(update(Lease).where(Lease.worker.in_(dead)).values(
                    worker=None, expires_at=None))
                s.execute(update(Worker).where(Worker.worker_id.in_(dead)).values(state="dead"))
        return dead

    def claim(self, worker_id: str, candidates: list[str]) -> str | None:
        """The first candidate whose lease is free or expired, now leased to `worker_id`."""
        self.reap_dead_local_workers()
        with Session(self.engine) as s, s.begin():
            for i in range(0, len(candidates), 500):  # within SQLite's bound-parameter limit
                s.execute(dialect_insert(self.engine)(Lease).values(
                    [{"docket": self.docket, "task_id": t} for t in candidates[i:i + 500]])
                    .on_conflict_do_nothing())
        for task_id in candidates:
            with Session(self.engine) as s, s.begin():
                now = _now()
                key = (Lease.docket == self.docket, Lease.task_id == task_id)
                locked = s.scalar(select(Lease.task_id).where(*key, self._free(now))
                                  .with_for_update(skip_locked=True))
                if locked is None:
                    continue
                won = s.execute(update(Lease).where(*key, self._free(now)).values(
                    worker=worker_id, expires_at=now + self.ttl, claimed_at=now)).rowcount
                if won == 1:
                    return task_id
        return None

    def renew(self, worker_id: str, task_id: str) -> bool:
        """Extend the lease; False if it is no longer this worker's."""
        with Session(self.engine) as s, s.begin():
            return s.execute(update(Lease).where(
                Lease.docket == self.docket, Lease.task_id == task_id,
                Lease.worker == worker_id).values(expires_at=_now() + self.ttl)).rowcount == 1

    def release(self, worker_id: str, task_id: str) -> None:
        with Session(self.engine) as s, s.begin():
            s.execute(update(Lease).where(
                Lease.docket == self.docket, Lease.task_id == task_id,
                Lease.worker == worker_id).values(worker=None, expires_at=None))

    def holder(self, task_id: str) -> tuple[str | None, datetime | None]:
        with Session(self.engine) as s:
            row = s.get(Lease, (self.docket, task_id))
            return (row.worker, _aware(row.expires_at)) if row else (None, None)

    # the worker table: what `autodocket workers` shows ---------------------------------------
    def register(self, worker_id: str, device: str) -> None:
        now = _now()
        with Session(self.engine) as s, s.begin():
            s.merge(Worker(worker_id=worker_id, host=rig(), pid=os.getpid(),
                           device=device, docket=self.docket, state="idle", task_id=None,
                           stage=None, tasks_done=0, lease_s=self.ttl.total_seconds(),
                           started_at=now, heartbeat_at=now))

    def beat(self, worker_id: str, *, state: str | None = None, task_id: str | None = "",
             stage: str | None = "", finished: bool = False) -> None:
        """Heartbeat, with what the worker is doing; "" leaves a field as it is."""
        values: dict = {"heartbeat_at": _now()}
        if state is not None:
            values["state"] = state
        if task_id != "":
            values["task_id"] = task_id
        if stage != "":
            values["stage"] = stage
        if finished:
            values["tasks_done"] = Worker.tasks_done + 1
        with Session(self.engine) as s, s.begin():
            s.execute(update(Worker).where(Worker.worker_id == worker_id).values(**values))

    def workers(self) -> list[dict]:
        now = _now()
        with Session(self.engine) as s:
            rows = s.scalars(select(Worker).where(Worker.docket == self.docket)
                             .order_by(Worker.started_at)).all()
            return [{"worker": w.worker_id, "host": w.host, "pid": w.pid, "device": w.device,
                     "state": w.state if w.state in ("stopped", "dead") or
                     now - _aware(w.heartbeat_at) < timedelta(seconds=w.lease_s) else "lost",
                     "task": w.task_id, "stage": w.stage, "tasks_done": w.tasks_done,
                     "heartbeat_s_ago": round((now - _aware(w.heartbeat_at)).total_seconds(), 1)}
                    for w in rows]
