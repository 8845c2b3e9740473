"""The reviewing council. Offline, three rule-based seats read the verification and the
measurement; with models configured, each seat is a model returning the same JSON.

Each seat returns {seat, verdict: approve|reject, findings: [{line, severity, text}],
confidence}. Consensus: the majority, except that an `error` finding (correctness or safety)
raised by one seat and confirmed by a second acts as a veto. Every dissent is kept.
"""
from __future__ import annotations


def _seat(name, findings, confidence):
    verdict = "reject" if any(f["severity"] == "error" for f in findings) else "approve"
    return {"seat": name, "verdict": verdict, "findings": findings, "confidence": confidence}


def verifier_seat(verification: dict, measurement: dict) -> dict:
    findings = []
    for f in verification.get("findings", []):
        if f["status"] == "violated":
            findings.append({"line": None, "severity": "error",
                             "text": f"{f['obligation']} violated: {f['detail']}"})
        elif f["status"] in ("unknown", "unsupported"):
            findings.append({"line": None, "severity": "warning",
                             "text": f"{f['obligation']} of {f['access']} {f['status']}"})
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
    findings = []
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
    approvals = sum(r["verdict"] == "approve" for r in reviews)
    errors = [r for r in reviews if any(f["severity"] == "error" for f in r["findings"])]
    majority = "approve" if approvals * 2 > len(reviews) else "reject"
    vetoed = len(errors) >= 2
    verdict = "reject" if vetoed else majority
    return {"verdict": verdict, "approvals": approvals, "seats": len(reviews), "vetoed": vetoed,
            "dissent": [r for r in reviews if r["verdict"] != verdict],
            "rule": "majority; an error finding raised by two seats is a veto"}


def review_offline(verification: dict, measurement: dict) -> tuple[dict, list[dict]]:
    reviews = [seat(verification, measurement) for seat in SEATS]
    return consensus(reviews), reviews
