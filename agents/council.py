"""The reviewing council. Offline, three rule-based seats read the verification and the
measurement; with models configured, each seat is a model returning the same JSON.

Each seat returns {seat, verdict: approve|reject, findings: [{line, severity, text}],
confidence}. Consensus: the majority of the seats that voted, except that an `error` finding
(correctness or safety) raised by one seat and confirmed by a second acts as a veto. A model seat
that gives no usable answer abstains (recorded); if every seat abstains, the rule-based seats
review instead. Every dissent is kept.
"""
from __future__ import annotations

import json

VERDICTS = ("approve", "reject")
SEVERITIES = ("error", "warning", "info")


def _seat(name, findings, confidence):
    verdict = "reject" if any(f["severity"] == "error" for f in findings) else "approve"
    return {"seat": name, "verdict": verdict, "findings": findings, "confidence": confidence}


def verifier_seat(verification: dict, measurement: dict) -> dict:
    """Z3's verdict; what it could not prove passes only where a run watched every memory
    access (bounds-checked interpreter, compute-sanitizer) and saw none out of bounds."""
    findings = []
    dynamic = measurement.get("dynamic_check") or {}
    watched = dynamic.get("status") == "clean"
    for f in verification.get("findings", []):
        if f["status"] == "violated":
            findings.append({"line": None, "severity": "error",
                             "text": f"{f['obligation']} violated: {f['detail']}"})
        elif f["status"] in ("unknown", "unsupported"):
            findings.append({"line": None, "severity": "warning" if watched else "error",
                             "text": f"{f['obligation']} of {f['access']} {f['status']}"})
    if verification.get("status") in ("unknown", "unsupported"):
        findings.append({"line": None, "severity": "info" if watched else "error",
                         "text": f"not proved; {dynamic['kind']}: clean" if watched else
                         "not proved, and no dynamic check watched its memory accesses"})
    if verification.get("status") == "error":
        findings.append({"line": None, "severity": "error", "text": verification.get("error")})
    return _seat("verifier", findings, 0.9)


def harness_seat(verification: dict, measurement: dict) -> dict:
    findings = [{"line": None, "severity": "error", "text": f"{r['reason']}: {r['detail']}"}
                for r in measurement.get("rejections", [])]
    findings += [{"line": f["line"], "severity": "warning", "text": f"{f['name']}: {f['text']}"}
                 for f in measurement.get("static", []) if f["action"] == "flag"]
    if measurement.get("status") != "correct" and not findings:
        findings.append({"line": None, "severity": "error", "text": "not shown correct"})
    return _seat("harness", findings, 0.9)


def performance_seat(verification: dict, measurement: dict) -> dict:
    """Speed against PyTorch, and the task's own criterion: one not met is an error."""
    findings = [{"line": None, "severity": {"not met": "error", "met": "info"}.get(
        c["verdict"], "info"), "text": f"criterion {c['verdict']}: {c['criterion']}"
        + (f" ({c['measured'] or c['why']})" if c.get("measured") or c.get("why") else "")}
        for c in measurement.get("criteria") or []]
    if not measurement.get("timing"):
        findings.append({"line": None, "severity": "info",
                         "text": "no timing (no GPU): speed not assessed, nothing claimed"})
        return _seat("performance", findings, 0.3)
    for s in measurement["timing"]["sets"]:
        vs = s.get("speedup_vs_compile") or s.get("speedup_vs_eager")
        if vs is not None and vs < 1.0:
            findings.append({"line": None, "severity": "error" if vs < 0.8 else "warning",
                             "text": f"input set {s['input_set']}: {vs:.2f}x of the best "
                                     "PyTorch baseline"})
        findings += [{"line": None, "severity": "warning", "text": flag} for flag in s["flags"]]
    return _seat("performance", findings, 0.7)


SEATS = [verifier_seat, harness_seat, performance_seat]


def consensus(reviews: list[dict]) -> dict:
    votes = [r for r in reviews if r["verdict"] in VERDICTS]
    approvals = sum(r["verdict"] == "approve" for r in votes)
    errors = [r for r in votes if any(f["severity"] == "error" for f in r["findings"])]
    vetoed = len(errors) >= 2
    verdict = "reject" if vetoed or approvals * 2 <= len(votes) else "approve"
    return {"verdict": verdict, "approvals": approvals, "seats": len(reviews),
            "voted": len(votes), "vetoed": vetoed,
            "dissent": [r for r in reviews if r["verdict"] != verdict],
            "rule": "majority of the seats that voted; an error finding raised by two seats is "
                    "a veto"}


def review_offline(verification: dict, measurement: dict) -> tuple[dict, list[dict]]:
    reviews = [seat(verification, measurement) for seat in SEATS]
    return consensus(reviews), reviews


def parse_review(answer: str) -> dict:
    from agents.models import AnswerError, json_object
    value = json_object(answer)
    if value.get("verdict") not in VERDICTS:
        raise AnswerError('"verdict" must be "approve" or "reject"')
    findings = value.get("findings", [])
    if not isinstance(findings, list) or not all(
            isinstance(f, dict) and f.get("severity") in SEVERITIES
            and isinstance(f.get("text"), str)
            and (f.get("line") is None or isinstance(f.get("line"), int)) for f in findings):
        raise AnswerError('"findings" must be a list of {"line": int|null, "severity": '
                          '"error"|"warning"|"info", "text": str}')
    confidence = value.get("confidence")
    if not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
        raise AnswerError('"confidence" must be a number from 0 to 1')
    return {"verdict": value["verdict"], "findings": findings, "confidence": float(confidence)}


def _brief(verification: dict, measurement: dict) -> tuple[str, str]:
    v = {k: verification.get(k) for k in ("status", "counts", "unsupported", "error")}
    v["findings"] = [f for f in verification.get("findings", []) if f["status"] != "proved"]
    m = {k: measurement.get(k) for k in ("status", "correctness", "speedups", "rejections",
                                          "static", "notes")}
    return json.dumps(v, default=str), json.dumps(m, default=str)


def review_with_models(seats, problem: str, kernel: str, verification: dict, measurement: dict,
                       backoff_s: float) -> tuple[dict, list[dict], list[dict]]:
    """(consensus, reviews, call records) from the model seats."""
    from agents.models import ModelFailure, ask, prompt
    v, m = _brief(verification, measurement)
    numbered = "\n".join(f"{i:4d}  {line}" for i, line in enumerate(kernel.splitlines(), 1))
    question = prompt("reviewer", problem=problem.strip(), kernel=numbered, verification=v,
                      measurement=m, device=(measurement.get("device") or {}).get("name", "?"))
    reviews, calls = [], []
    for seat in seats:
        try:
            review, seat_calls = ask(seat, question, parse_review, backoff_s=backoff_s)
            reviews.append({"seat": seat.name, **review})
        except ModelFailure as err:
            seat_calls = err.calls
            reviews.append({"seat": seat.name, "verdict": "abstain", "confidence": 0.0,
                            "findings": [{"line": None, "severity": "info", "text": str(err)}]})
        calls += seat_calls
    if not any(r["verdict"] in VERDICTS for r in reviews):
        verdict, rule_reviews = review_offline(verification, measurement)
        verdict["note"] = "no model seat answered: the rule-based seats reviewed"
        return verdict, reviews + rule_reviews, calls
    return consensus(reviews), reviews, calls
