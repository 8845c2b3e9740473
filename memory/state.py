"""Where autodocket keeps each task's status (the Markdown only knows checked / unchecked).

Statuses: in-progress, awaiting-review, parked, needs-human. A task with no row is queued.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, Engine, String, Text, delete, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

STATUSES = ("in-progress", "awaiting-review", "parked", "needs-human")


class Base(DeclarativeBase):
    pass


class TaskState(Base):
    __tablename__ = "task_state"
    docket: Mapped[str] = mapped_column(String(512), primary_key=True)  # path from the lab root
    task_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StateStore:
    def __init__(self, engine: Engine, docket: str):
        self.engine, self.docket = engine, docket
        Base.metadata.create_all(engine)

    def set(self, task_id: str, status: str, reason: str | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
        with Session(self.engine) as s, s.begin():
            row = s.get(TaskState, (self.docket, task_id))
            now = datetime.now(timezone.utc)
            if row is None:
                s.add(TaskState(docket=self.docket, task_id=task_id, status=status,
                                reason=reason, updated_at=now))
            else:
                row.status, row.reason, row.updated_at = status, reason, now

    def clear(self, task_id: str) -> None:
        """Back to the queue."""
        with Session(self.engine) as s, s.begin():
            s.execute(delete(TaskState).where(TaskState.docket == self.docket,
                                              TaskState.task_id == task_id))

    def all(self) -> dict[str, TaskState]:
        with Session(self.engine) as s:
            rows = s.scalars(select(TaskState).where(TaskState.docket == self.docket)).all()
            s.expunge_all()
            return {r.task_id: r for r in rows}
