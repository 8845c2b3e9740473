"""Find what a docket claims without evidence.

A claim is a number with a result-like unit in a done task's text (``1.47x``, ``66.3%``,
``85ms``, ``120 TPS``, ``0.0046``). It is backed only when the task has an evidence record
(``results/<task-id>/evidence.json``) holding that value at the claim's precision.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .model import Docket
from .parser import Task

_NUM = r"(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
_CLAIM_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("speedup", re.compile(_NUM + r"[ \t]?[x×](?![A-Za-z0-9]|[ \t]*\d)")),  # not "8192 x 8192"
    ("percent", re.compile(_NUM + r"[ \t]?%")),
    ("latency", re.compile(_NUM + r"[ \t]?(ns|µs|us|ms|seconds?|sec)(?![A-Za-z])")),
    ("throughput", re.compile(_NUM + r"[ \t]?(TPS|tok/s|tokens/s|GB/s|TB/s|TFLOP/s|TFLOPS|GFLOP/s|it/s)(?![A-Za-z])")),
    # bare values precise enough to be a measurement: 0.0046, 8.36e-07
    ("value", re.compile(r"(?<![\w.\-/])(\d+\.\d{3,}(?:[eE][-+]?\d+)?|\d+(?:\.\d+)?[eE][-+]?\d+)(?![\w%×]|\.\d)")),
]
# A commit id is not a number, though one like 085e909 reads as 85e909.
_COMMIT_ID = re.compile(r"\bcommit[ \t]+[0-9a-f]{7,40}\b", re.IGNORECASE)
_HEDGES = re.compile(r"\b(simulated|simulation|projected|estimated|theoretical(?:ly)?|"
                     r"expected to|should achieve|in theory)\b", re.IGNORECASE)


@dataclass
class Claim:
    text: str  # as written, e.g. "1.47x"
    value: float
    kind: str  # speedup | percent | latency | throughput | value
    decimals: int
    backed: bool = False


@dataclass
class AuditEntry:
    task_id: str
    title: str
    line: int
    kind: str  # checklist | table
    checked: bool
    evidence: str | None  # path of the evidence record, relative to the lab root
    claims: list[Claim] = field(default_factory=list)
    hedges: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def find_claims(text: str) -> list[Claim]:
    claims: list[Claim] = []
    taken = [m.span() for m in _COMMIT_ID.finditer(text)]
    for kind, pattern in _CLAIM_PATTERNS:
        for m in pattern.finditer(text):
            span = m.span()
            if any(a < span[1] and span[0] < b for a, b in taken):
                continue
            number = m.group(1)
            mantissa = number.lower().split("e")[0]
            decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
            claims.append(Claim(m.group(0).strip(), float(number), kind, decimals))
            taken.append(span)
    claims.sort(key=lambda c: text.find(c.text))
    return claims


def evidence_path(lab_root: Path, task_id: str) -> Path:
    return lab_root / "results" / task_id / "evidence.json"


def _numbers(node) -> list[float]:
    if isinstance(node, bool):
        return []
    if isinstance(node, (int, float)):
        return [float(node)] if math.isfinite(node) else []
    if isinstance(node, dict):
        return [x for v in node.values() for x in _numbers(v)]
    if isinstance(node, list):
        return [x for v in node for x in _numbers(v)]
    return []


def _backs(values: list[float], claim: Claim) -> bool:
    scale = [1.0, 100.0] if claim.kind == "percent" else [1.0]
    tolerance = 0.5 * 10 ** -claim.decimals
    if claim.kind == "value" and "e" in claim.text.lower():
        return any(math.isclose(v, claim.value, rel_tol=5 * 10 ** -(claim.decimals + 1))
                   for v in values)
    return any(abs(v * s - claim.value) <= tolerance + 1e-12 for v in values for s in scale)


def audit_task(task: Task, lab_root: Path) -> AuditEntry:
    path = evidence_path(lab_root, task.id)
    record = None
    findings: list[str] = []
    if path.is_file():
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, OSError) as err:
            findings.append(f"evidence record unreadable: {err}")
    entry = AuditEntry(task.id, task.title, task.line, task.kind, task.checked,
                       str(path.relative_to(lab_root)) if record is not None else None,
                       findings=findings)
    text = " ".join([task.title, task.description] + [s.text for s in task.sub_items])
    values = _numbers(record) if record is not None else []
    entry.claims = find_claims(text)
    for claim in entry.claims:
        claim.backed = _backs(values, claim)
    entry.hedges = sorted({m.group(1).lower() for m in _HEDGES.finditer(text)})
    if task.checked and record is None:
        entry.findings.append("checked without an evidence record")
    elif task.kind == "table" and record is None:
        entry.findings.append("no evidence record: this plan row is not done")
    unbacked = [c.text for c in entry.claims if not c.backed]
    if unbacked and (task.checked or record is not None):
        entry.findings.append("unverified claims: " + ", ".join(unbacked))
    if task.checked and entry.hedges and record is None:
        entry.findings.append("result described as " + "/".join(entry.hedges) + ", not measured")
    return entry


def audit(docket: Docket, lab_root: Path) -> list[AuditEntry]:
    """Entries for checked tasks and plan-table rows that lack an evidence record, and for any
    task whose numbers its evidence does not back. Open checklist items claim nothing."""
    entries = []
    for task in docket.tasks:
        if task.kind == "checklist" and not task.checked \
                and not evidence_path(lab_root, task.id).is_file():
            continue
        entry = audit_task(task, lab_root)
        if entry.findings:
            entries.append(entry)
    return entries
