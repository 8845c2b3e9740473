"""A task's success criterion as predicates over its evidence: met, not met, or not checkable
here (and why).

    verdicts = judge(parse("beats torch.compile; >= 90% of copy bandwidth"), measurement)
    # [{"criterion": "beats torch.compile", "verdict": "met", "measured": "1.07x vs
    #   torch.compile on input set default (the least of 3 sets)", ...}, ...]

Speed is judged on every timed input set (the least speedup decides), bandwidth on the
default set's roofline position; without a GPU neither is checkable. A criterion that is not
met never reads as a success: `summary` says so first.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

BASELINES = [("compile", r"torch\.?compile|\bcompile\b|inductor"),
             ("eager", r"\beager\b|\bpytorch\b|\btorch\b|\bsdpa\b|\bcublas\b|\breference\b")]
SPEED = r"faster|speed-?ups?|\bover\b|\bvs\.?\b|\bthan\b|\bbeats?\b|outperform"
NUM = r"(\d+(?:\.\d+)?)"


@dataclass
class Criterion:
    text: str
    kind: str  # speedup | bandwidth | latency | tflops | correct | statistic | unreadable
    op: str = ">="
    value: float | None = None
    baseline: str | None = None  # eager | compile (speedup)

    def to_dict(self) -> dict:
        return asdict(self)


def parse(text: str | None) -> list[Criterion]:
    """One predicate per clause (split at ';'); a clause with no measurable predicate is
    kept as `unreadable`, so that it is reported rather than dropped."""
    out = []
    for clause in filter(None, (c.strip() for c in (text or "").split(";"))):
        out.append(_one(clause))
    return out


def _baseline(text: str) -> str | None:
    """eager or compile; None for a baseline autodocket does not time (FA-2, a paper's)."""
    return next((name for name, pattern in BASELINES if re.search(pattern, text, re.I)), None)


def _one(clause: str) -> Criterion:
    low = clause.lower()
    if re.search(r"load[- ]balance|\bstd\b|standard deviation|\bperplexity\b|\baccuracy\b", low):
        return Criterion(clause, "statistic")
    speed = re.search(SPEED, low) or _baseline(low)
    if (m := re.search(rf"(≥|>=|>|at least)?\s*{NUM}\s*[x×]", low)) and speed:
        op = ">" if m.group(1) == ">" else ">="
        return Criterion(clause, "speedup", op, float(m.group(2)), _baseline(low))
    if re.search(r"\b(beats?|faster than|outperforms?)\b", low):
        return Criterion(clause, "speedup", ">", 1.0, _baseline(low))
    if m := re.search(rf"{NUM}\s*%\s*of\s*(?:the\s*)?(?:peak\s*|copy\s*|memory\s*|hbm\s*)?"
                      r"(?:bandwidth|roofline)", low):
        return Criterion(clause, "bandwidth", ">=", float(m.group(1)) / 100)
    if m := re.search(rf"(?:<|≤|<=|under|below|within)\s*{NUM}\s*(ms|us|µs)\b", low):
        scale = 1.0 if m.group(2) == "ms" else 1e-3
        return Criterion(clause, "latency", "<=", float(m.group(1)) * scale)
    if m := re.search(rf"{NUM}\s*tflop/?s", low):
        return Criterion(clause, "tflops", ">=", float(m.group(1)))
    if re.search(r"\b(correct|matches?|numerically|bit[- ]exact)\b", low):
        return Criterion(clause, "correct")
    return Criterion(clause, "unreadable")


def _holds(value: float, op: str, bound: float) -> bool:
    return {">=": value >= bound, ">": value > bound, "<=": value <= bound}[op]


def judge(criteria: list[Criterion], measurement: dict | None) -> list[dict]:
    """Each criterion against a harness report (BenchReport.to_dict())."""
    m = measurement or {}
    sets = (m.get("timing") or {}).get("sets") or []
    card = (m.get("device") or {}).get("name") or "?"
    out = []
    for c in criteria:
        verdict, measured, why = "not checkable here", None, ""
        if m.get("status") != "correct":
            verdict, why = "not met", "the kernel was not shown correct"
        elif c.kind == "correct":
            verdict, measured = "met", "correct on every input set checked"
        elif c.kind in ("statistic", "unreadable"):
            why = ("a statistic of the outputs on real data (random inputs say nothing of it)"
                   if c.kind == "statistic" else "no measurable predicate in these words")
        elif c.kind == "speedup" and c.baseline is None:
            why = "its baseline is not one autodocket times (eager, torch.compile)"
        elif not sets:
            why = "no GPU here: correctness only, no timing"
        elif c.kind == "speedup":
            key = f"speedup_vs_{c.baseline}"
            timed = [(s[key], s["input_set"]) for s in sets if s.get(key) is not None]
            if not timed:
                why = f"no {c.baseline} baseline was timed"
            else:
                least, where = min(timed)
                verdict = "met" if _holds(least, c.op, c.value) else "not met"
                measured = f"{least:.2f}x vs {_name(c.baseline)} on input set {where} " \
                           f"(the least of {len(timed)}; {card})"
        elif c.kind in ("bandwidth", "tflops"):
            spot = m.get("roofline")
            if not spot:
                why = "the problem's cost could not be counted: no roofline position"
            elif c.kind == "bandwidth":
                verdict = "met" if _holds(spot["fraction_of_ceiling"], c.op, c.value) \
                    else "not met"
                measured = f"{spot['fraction_of_ceiling']:.0%} of the card's {spot['bound']} " \
                           f"ceiling on the default input set ({card})"
            else:
                rate = spot["flops_per_s"] / 1e12
                verdict = "met" if _holds(rate, c.op, c.value) else "not met"
                measured = f"{rate:.0f} TFLOP/s on the default input set ({card})"
        elif c.kind == "latency":
            worst = max(s["first"]["kernel"]["median_ms"] for s in sets)
            verdict = "met" if _holds(worst, c.op, c.value) else "not met"
            measured = f"{worst:.4f} ms median on the slowest input set ({card})"
        out.append({"criterion": c.text, "kind": c.kind, "verdict": verdict,
                    "measured": measured, "why": why})
    return out


def _name(baseline: str) -> str:
    return "torch.compile" if baseline == "compile" else "eager"


def summary(verdicts: list[dict]) -> str:
    """One phrase for evidence lines and tables; a criterion not met comes first."""
    if not verdicts:
        return "no criterion stated"
    order = {"not met": 0, "not checkable here": 1, "met": 2}
    worst = min(verdicts, key=lambda v: order[v["verdict"]])
    if worst["verdict"] == "met":
        return "criterion met" if len(verdicts) == 1 else f"all {len(verdicts)} criteria met"
    detail = worst["measured"] or worst["why"]
    verdict = "NOT MET" if worst["verdict"] == "not met" else worst["verdict"]
    return f"criterion {verdict} ({worst['criterion']}: {detail})"
