"""Where autodocket keeps each task's status (the Markdown only knows checked / unchecked).

Statuses: in-progress, awaiting-review, parked, needs-human, and queued (back in the queue after
a rejection, with the researcher's reason as feedback). A task with no row is queued too.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, Engine, Integer, String, Text, delete, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from memory.db import create_tables

STATUSES = ("in-progress", "awaiting-review", "parked", "needs-human", "queued")
HELD = ("in-progress", "awaiting-review", "parked", "needs-human")  # `next` skips these


class Base(DeclarativeBase):
    pass


class TaskState(Base):
    __tablename__ = "task_state"
    docket: Mapped[str] = mapped_column(String(512), primary_key=True)  # path from the lab root
    task_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    rounds: Mapped[int] = mapped_column(Integer, default=0)  # rejections so far
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StateStore:
    def __init__(self, engine: Engine, docket: str):
        self.engine, self.docket = engine, docket
        create_tables(engine, Base.metadata, [TaskState.__table__])

    def set(self, task_id: str, status: str, reason: str | None = None,
            new_round: bool = False) -> None:
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
        with Session(self.engine) as s, s.begin():
            row = s.get(TaskState, (self.docket, task_id))
            now = datetime.now(timezone.utc)
            if row is None:
                s.add(TaskState(docket=self.docket, task_id=task_id, status=status,
                                reason=reason, rounds=int(new_round), updated_at=now))
            else:
                row.status, row.reason, row.updated_at = status, reason, now
                row.rounds = (row.rounds or 0) + int(new_round)

    def held(self) -> set[str]:
        return {t for t, row in self.all().items() if row.status in HELD}

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
