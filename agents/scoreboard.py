"""Every task and plan row against its success criterion: the measured value that decides it,
and met / not met / not checkable here / no evidence (`autodocket scoreboard`).

The evidence is the approved record on main (`results/<id>/evidence.json`), else the record on
the task's agent branch (awaiting review); the verdicts are the ones the loop recorded, or,
for a record made before criteria were checked, judged now from its measurement.
"""
from __future__ import annotations

import json

import docket as docket_mod
from agents.config import Lab
from agents.criteria import judge, parse
from agents.graph import sub_item_text
from agents.spec import criterion_phrase


def _evidence(lab: Lab, task_id: str, heads: dict) -> tuple[dict | None, str]:
    from agents.lab_view import branch_evidence
    path = lab.root / "results" / task_id / "evidence.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8")), "approved"
    if task_id in heads:
        ev = branch_evidence(lab, heads[task_id].hexsha, task_id)
        return (ev, "awaiting review") if ev else (None, "")
    return None, ""


def rows(lab: Lab, docket: docket_mod.Docket | None = None,
         heads: dict | None = None) -> list[dict]:
    """`docket` and `heads` (agents.lab_view.agent_heads): already read by the caller, else
    read here."""
    from agents.lab_view import agent_heads
    heads = agent_heads(lab)[0] if heads is None else heads
    out = []
    for task in (docket or docket_mod.load(lab.docket_path)).tasks:
        words = task.criterion or criterion_phrase(" ".join(filter(None, [
            task.title, task.description, sub_item_text(task)])))
        ev, state = _evidence(lab, task.id, heads)
        base = {"task_id": task.id, "ref": task.ref, "title": task.title, "criterion": words,
                "evidence": state or None}
        if not words:
            out.append({**base, "verdict": "no criterion", "measured": None, "why": ""})
            continue
        if ev is None:
            out.append({**base, "verdict": "no evidence", "measured": None, "why": ""})
            continue
        verdicts = ev.get("criteria") or judge(parse(words), {
            "status": (ev.get("correctness") or {}).get("status"), "timing": ev.get("timing"),
            "roofline": ev.get("roofline"), "device": ev.get("device")})
        for v in verdicts:
            out.append({**base, "criterion": v["criterion"], "verdict": v["verdict"],
                        "measured": v["measured"], "why": v["why"]})
    return out
