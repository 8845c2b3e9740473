"""The lab knowledge graph: entities and facts with validity in world time, and provenance.

A fact is (subject, predicate, object entity or value) valid from `valid_from` until `valid_to`
(open while current), recorded at `recorded_at`, with the task, commit, evidence file and source
line it came from. A fact with a `slot` (e.g. one kernel's speedup on one card) is functional:
recording a newer one closes the current one (Graphiti's invalidation), nothing is deleted.

Search: SQLite FTS5 (bm25) or PostgreSQL full text (ts_rank) over each fact's text, expanded to
facts of entities within two hops, filtered to what was valid on `as_of`.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import (DateTime, Engine, Float, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint, select, text, update)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import create_tables, dialect_insert, schema_transaction
from .state import Base

MAX_QUERY_TERMS = 32
EXPANSION_DECAY = 0.5  # a neighbour's fact scores half its seed's
EXPANSION_LIMIT = 200  # facts taken per hop


class KGError(ValueError):
    """A query or input the graph cannot take (exit code 2)."""


class Entity(Base):
    __tablename__ = "kg_entity"
    __table_args__ = (UniqueConstraint("kind", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(400), index=True)


class Fact(Base):
    __tablename__ = "kg_fact"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)  # idempotent writes
    subject_id: Mapped[int] = mapped_column(ForeignKey("kg_entity.id"), index=True)
    predicate: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[int | None] = mapped_column(ForeignKey("kg_entity.id"), index=True)
    value: Mapped[str | None] = mapped_column(Text)
    value_num: Mapped[float | None] = mapped_column(Float)
    slot: Mapped[str | None] = mapped_column(String(600), index=True)
    status: Mapped[str] = mapped_column(String(16), default="observed")
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    task_id: Mapped[str | None] = mapped_column(String(200))
    commit_sha: Mapped[str | None] = mapped_column(String(40))
    evidence_path: Mapped[str | None] = mapped_column(String(400))
    source_line: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)


# one current fact per functional slot
Index("kg_one_current_per_slot", Fact.slot, unique=True,
      sqlite_where=text("valid_to IS NULL AND slot IS NOT NULL"),
      postgresql_where=text("valid_to IS NULL AND slot IS NOT NULL"))


@dataclass
class FactRecord:
    """A fact as committed text (facts.jsonl): everything needed to rebuild the database."""
    subject: tuple[str, str]  # (kind, name)
    predicate: str
    object: tuple[str, str] | None = None
    value: str | float | None = None
    valid_from: str | None = None  # ISO date or datetime; now when absent
    slot: str | None = None
    status: str = "observed"  # observed | verified | unverified
    task_id: str | None = None
    commit_sha: str | None = None
    evidence_path: str | None = None
    source_line: int | None = None
    recorded_at: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> "FactRecord":
        d = json.loads(line)
        d["subject"] = tuple(d["subject"])
        d["object"] = tuple(d["object"]) if d.get("object") else None
        return cls(**d)

    def key(self) -> str:
        ident = [self.subject, self.predicate, self.object, self.value, self.valid_from,
                 self.slot, self.task_id, self.commit_sha, self.source_line]
        return hashlib.sha256(json.dumps(ident, default=str).encode()).hexdigest()


@dataclass
class Hit:
    fact_id: int
    subject: str
    subject_kind: str
    predicate: str
    object: str | None
    value: str | None
    status: str
    valid_from: str
    valid_to: str | None
    score: float
    hops: int
    provenance: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def parse_time(value: str | datetime | None) -> datetime:
    if value is None:
        return datetime.now(timezone.utc)
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise KGError(f"not a date: {value!r} (use YYYY-MM-DD)") from None
    # all times stored in UTC, so that SQLite's text comparison orders them correctly
    return t.astimezone(timezone.utc) if t.tzinfo else t.replace(tzinfo=timezone.utc)


def _iso(t: datetime | str | None) -> str | None:
    if t is None:
        return None
    return parse_time(t).isoformat(timespec="seconds")


def _install_search(engine: Engine) -> None:
    with schema_transaction(engine) as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("CREATE VIRTUAL TABLE IF NOT EXISTS kg_fts USING fts5("
                                 "text, content='kg_fact', content_rowid='id')")
            conn.exec_driver_sql("CREATE TRIGGER IF NOT EXISTS kg_fts_ai AFTER INSERT ON kg_fact "
                                 "BEGIN INSERT INTO kg_fts(rowid, text) VALUES (new.id, new.text); END")
            conn.exec_driver_sql("CREATE TRIGGER IF NOT EXISTS kg_fts_ad AFTER DELETE ON kg_fact "
                                 "BEGIN INSERT INTO kg_fts(kg_fts, rowid, text) "
                                 "VALUES ('delete', old.id, old.text); END")
        elif engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ALTER TABLE kg_fact ADD COLUMN IF NOT EXISTS tsv tsvector "
                                 "GENERATED ALWAYS AS (to_tsvector('english', text)) STORED")
            conn.exec_driver_sql("CREATE INDEX IF NOT EXISTS kg_fact_tsv ON kg_fact USING gin(tsv)")


class KnowledgeGraph:
    def __init__(self, engine: Engine):
        self.engine = engine
        create_tables(engine, Base.metadata, [Entity.__table__, Fact.__table__])
        _install_search(engine)

    # writing -----------------------------------------------------------------------------
    def _entity_ids(self, s: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """Ids of (kind, name) entities, creating the missing ones (concurrent writers too)."""
        insert = dialect_insert(self.engine)
        keys = sorted(keys)
        ids: dict[tuple[str, str], int] = {}
        for i in range(0, len(keys), 400):
            chunk = keys[i:i + 400]
            s.execute(insert(Entity).values([{"kind": k, "name": n} for k, n in chunk])
                      .on_conflict_do_nothing())
            wanted = set(chunk)  # looked up by name (indexed), kinds checked here
            for eid, kind, name in s.execute(select(Entity.id, Entity.kind, Entity.name).where(
                    Entity.name.in_({n for _, n in chunk}))):
                if (kind, name) in wanted:
                    ids[(kind, name)] = eid
        return ids

    def add(self, records: list[FactRecord], retries: int = 8) -> int:
        """Insert facts in one transaction; already-present facts are skipped. Returns how many
        were new. A writer that meets a lock or a concurrent slot update waits and retries."""
        import time
        for attempt in range(retries):
            try:
                added = self._add(records)
                if added >= 1000 and self.engine.dialect.name == "postgresql":
                    # fresh statistics, or the planner keeps scanning a fast-growing table
                    with self.engine.begin() as conn:
                        conn.exec_driver_sql("ANALYZE kg_fact")
                        conn.exec_driver_sql("ANALYZE kg_entity")
                return added
            except (OperationalError, IntegrityError) as err:
                retryable = isinstance(err, IntegrityError) or "locked" in str(err)
                if not retryable or attempt == retries - 1:
                    raise
                time.sleep(0.05 * 2 ** attempt)
        return 0

    def _add(self, records: list[FactRecord]) -> int:
        added = 0
        with Session(self.engine) as s, s.begin():
            keys = [r.key() for r in records]
            present: set[str] = set()
            for i in range(0, len(keys), 500):
                present |= set(s.scalars(select(Fact.key).where(Fact.key.in_(keys[i:i + 500]))))
            fresh = [(r, k) for r, k in zip(records, keys) if k not in present]
            ids = self._entity_ids(s, {r.subject for r, _ in fresh} |
                                   {r.object for r, _ in fresh if r.object})
            slots = sorted({r.slot for r, _ in fresh if r.slot})
            open_slot: dict[str, Fact | None] = dict.fromkeys(slots)
            for i in range(0, len(slots), 500):  # the current fact of every slot, in one pass
                for f in s.scalars(select(Fact).where(Fact.slot.in_(slots[i:i + 500]),
                                                      Fact.valid_to.is_(None)).with_for_update()):
                    open_slot[f.slot] = f
            seen: set[str] = set()
            for r, key in fresh:
                if key in seen:
                    continue
                seen.add(key)
                start = parse_time(r.valid_from)
                end = None
                if r.slot:  # close what the slot holds; an older record arrives closed
                    current = open_slot[r.slot]
                    if current is not None and parse_time(current.valid_from) <= start:
                        current.valid_to = start
                        if current.id is not None:
                            s.flush()  # the stored one closes before the new one is inserted
                    elif current is not None:
                        end = current.valid_from
                value_num = r.value if isinstance(r.value, (int, float)) else None
                words = [r.subject[1], r.predicate.replace("_", " "),
                         r.object[1] if r.object else "", str(r.value or ""), r.task_id or ""]
                fact = Fact(key=key, subject_id=ids[r.subject], predicate=r.predicate,
                            object_id=ids[r.object] if r.object else None,
                            value=None if r.value is None else str(r.value), value_num=value_num,
                            slot=r.slot, status=r.status, valid_from=start, valid_to=end,
                            recorded_at=parse_time(r.recorded_at), task_id=r.task_id,
                            commit_sha=r.commit_sha, evidence_path=r.evidence_path,
                            source_line=r.source_line, text=" ".join(w for w in words if w))
                s.add(fact)
                if r.slot and end is None:
                    open_slot[r.slot] = fact
                added += 1
        return added

    # reading -----------------------------------------------------------------------------
    def _search_ids(self, s: Session, terms: list[str], any_term: bool) -> list[tuple[int, float]]:
        if self.engine.dialect.name == "sqlite":
            q = (" OR " if any_term else " ").join('"' + t.replace('"', "") + '"' for t in terms)
            rows = s.execute(text("SELECT rowid, -bm25(kg_fts) FROM kg_fts WHERE kg_fts MATCH :q "
                                  "ORDER BY bm25(kg_fts) LIMIT 200"), {"q": q})
        else:
            q = (" | " if any_term else " & ").join(re.sub(r"\W", "", t) for t in terms)
            rows = s.execute(text("SELECT id, ts_rank(tsv, to_tsquery('english', :q)) AS r "
                                  "FROM kg_fact WHERE tsv @@ to_tsquery('english', :q) "
                                  "ORDER BY r DESC LIMIT 200"), {"q": q})
        return [(int(i), float(score)) for i, score in rows]

    def query(self, query: str, as_of: str | datetime | None = None, kind: str | None = None,
              limit: int = 20) -> list[Hit]:
        terms = re.findall(r"\w+", query or "")[:MAX_QUERY_TERMS]
        if not terms:
            raise KGError("empty query: give some words to search for")
        when = parse_time(as_of)
        cols = (Fact.id, Fact.subject_id, Fact.predicate, Fact.object_id, Fact.value, Fact.status,
                Fact.valid_from, Fact.valid_to, Fact.task_id, Fact.commit_sha, Fact.evidence_path,
                Fact.source_line)
        valid = (Fact.valid_from <= when) & (Fact.valid_to.is_(None) | (Fact.valid_to > when))
        with Session(self.engine) as s:
            seeds = self._search_ids(s, terms, any_term=False) or \
                self._search_ids(s, terms, any_term=True)
            scores: dict[int, tuple[float, int]] = {fid: (score, 0) for fid, score in seeds}
            rows = {r.id: r for r in s.execute(select(*cols).where(Fact.id.in_(list(scores)),
                                                                    valid))}
            best = max((scores[i][0] for i in rows), default=1.0)
            top = sorted(rows.values(), key=lambda r: -scores[r.id][0])[:limit]
            frontier = {e for r in top for e in (r.subject_id, r.object_id) if e}
            seen = set(frontier)
            for hop in (1, 2):  # facts about the entities within two hops of the best hits
                if not frontier:
                    break
                nxt = set()
                for r in s.execute(select(*cols).where(
                        Fact.subject_id.in_(frontier) | Fact.object_id.in_(frontier), valid)
                        .limit(EXPANSION_LIMIT)):
                    if r.id not in scores:
                        scores[r.id] = (best * EXPANSION_DECAY ** hop * 0.5, hop)
                        rows[r.id] = r
                    nxt |= {e for e in (r.subject_id, r.object_id) if e and e not in seen}
                seen |= nxt
                frontier = nxt
            ranked = sorted(rows.values(), key=lambda r: (-scores[r.id][0], scores[r.id][1], r.id))
            ids = {r.subject_id for r in ranked} | {r.object_id for r in ranked if r.object_id}
            entities = {e.id: e for e in s.execute(select(Entity.id, Entity.kind, Entity.name)
                                                   .where(Entity.id.in_(ids)))}
            hits = []
            for r in ranked:
                subj = entities[r.subject_id]
                if kind and subj.kind != kind:
                    continue
                score, hops = scores[r.id]
                hits.append(Hit(r.id, subj.name, subj.kind, r.predicate,
                                entities[r.object_id].name if r.object_id else None, r.value,
                                r.status, _iso(r.valid_from), _iso(r.valid_to), round(score, 4),
                                hops, {"task": r.task_id, "commit": r.commit_sha,
                                       "evidence": r.evidence_path, "line": r.source_line}))
                if len(hits) == limit:
                    break
        return hits

    def show(self, name: str) -> dict:
        with Session(self.engine) as s:
            entities = s.scalars(select(Entity).where(Entity.name == name)).all()
            if not entities:
                raise KGError(f"no entity named {name!r}")
            out = []
            for e in entities:
                facts = s.scalars(select(Fact).where((Fact.subject_id == e.id) |
                                                     (Fact.object_id == e.id))
                                  .order_by(Fact.predicate, Fact.valid_from)).all()
                ids = {f.subject_id for f in facts} | {f.object_id for f in facts if f.object_id}
                names = {x.id: x.name for x in s.scalars(select(Entity).where(Entity.id.in_(ids)))}
                out.append({"kind": e.kind, "name": e.name, "facts": [
                    {"subject": names[f.subject_id], "predicate": f.predicate,
                     "object": names.get(f.object_id), "value": f.value, "status": f.status,
                     "valid_from": _iso(f.valid_from), "valid_to": _iso(f.valid_to),
                     "current": f.valid_to is None, "task": f.task_id,
                     "commit": f.commit_sha, "evidence": f.evidence_path,
                     "line": f.source_line} for f in facts]})
            return {"entities": out}

    def prune(self, stale_days: int, now: datetime | None = None) -> int:
        """Close claims and hypotheses nothing has confirmed in `stale_days` days (they stay
        readable with as_of)."""
        now = now or datetime.now(timezone.utc)
        cutoff = now - timedelta(days=stale_days)
        with Session(self.engine) as s, s.begin():
            result = s.execute(update(Fact).where(
                Fact.valid_to.is_(None), Fact.status == "unverified",
                Fact.predicate.in_(("claims", "hypothesis")),
                Fact.recorded_at < cutoff).values(valid_to=now))
            return result.rowcount or 0

    def count(self) -> int:
        with Session(self.engine) as s:
            return s.scalar(text("SELECT count(*) FROM kg_fact"))


def read_jsonl(path: Path) -> list[FactRecord]:
    if not path.is_file():
        return []
    return [FactRecord.from_json(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def write_jsonl(path: Path, records: list[FactRecord]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(r.to_json() + "\n" for r in records), encoding="utf-8")


def reset(engine: Engine) -> None:
    """Drop the graph's tables (rebuild starts from the committed files)."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TABLE IF EXISTS kg_fts")
    Fact.__table__.drop(engine, checkfirst=True)
    Entity.__table__.drop(engine, checkfirst=True)
