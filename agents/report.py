"""What a task's pull request holds: evidence.json (DESIGN.md's record), REPORT.md, speedup.png."""
from __future__ import annotations

import hashlib
import io
from pathlib import Path

from agents.models import usage_summary


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def speedup_phrase(speedups: list[dict], device: str | None = None) -> str | None:
    """The first input set's ratios; None when nothing was timed."""
    if not speedups or not speedups[0].get("vs_eager"):
        return None
    s = speedups[0]
    text = f"{s['vs_eager']:.2f}x vs eager" + (
        f", {s['vs_compile']:.2f}x vs torch.compile" if s.get("vs_compile") else "")
    return text + (f" on {device}" if device else "") + f" ({s['input_set']} input set)"


def result_phrase(speedups: list[dict], device: str | None, criteria: list[dict] | None,
                  verification: str) -> str:
    """The one wording of a measured result (run summary, commit message, docket line): the
    speedups, or what a CPU run shows, then the criterion's verdict (one not met is never
    left out)."""
    from agents.criteria import summary
    measured = speedup_phrase(speedups, device) or \
        f"verified {verification}, correct on the CPU interpreter (no timing)"
    return measured + (f"; {summary(criteria)}" if criteria else "")


def evidence(state: dict, problem: Path, kernel: Path) -> dict:
    m, v = state["measurement"], state["verification"]
    rid = f"results/{state['task_id']}"
    device_flag = "cuda" if m.get("timing") else "cpu"
    return {
        "task": {"id": state["task_id"], "title": state["title"], "text": state["text"],
                 "docket": state["docket_key"], "line": state.get("line")},
        "files": {"problem": f"{rid}/problem.py", "problem_sha256": sha256(problem),
                  "kernel": f"{rid}/kernel.py", "kernel_sha256": sha256(kernel)},
        "plan": state.get("plan_note"),
        # what was measured and why: the problem's origin and each parameter with its words
        "problem": {"origin": state.get("problem_origin"), "spec": state.get("spec"),
                    "params": state.get("params")},
        "criteria": m.get("criteria") or [],
        "attempts": state["attempt"],
        "feedback": state.get("feedback", []),
        "backend": state.get("backend") or {},
        "coder": {"note": state.get("coder_note"),
                  "config": state.get("config"), "search": state.get("search")},
        "verification": {k: v.get(k) for k in ("status", "counts", "seconds", "analysis_seconds",
                                               "findings", "unsupported", "error",
                                               "launches_on")},
        # a run that watched every memory access; what licenses a kernel Z3 did not prove
        "dynamic_check": m.get("dynamic_check"),
        "correctness": {"status": m["status"], "input_sets": m.get("correctness"),
                        "tolerance": m.get("tolerance"),
                        "trials_per_set": 5, "seeds": "weights 42; inputs 1000+trial"},
        "timing": m.get("timing"),
        # the attempt's profile: None on the CPU, where only failed attempts are profiled
        "profile": state.get("profile"),
        "speedups": m.get("speedups"),
        "roofline": m.get("roofline"),
        "device": m.get("device"),
        "measurement_notes": m.get("notes"),
        # wall seconds of the harness's stages (reference, candidate, sanitizer, card)
        "harness_stages": m.get("stages"),
        "static_findings": m.get("static"),
        "council": {"consensus": state["consensus"], "reviews": state["reviews"]},
        "model_calls": usage_summary(state.get("calls") or []),
        # when the measurement ran (checkpointed): a re-run of a killed commit writes the same
        # bytes, so it makes no second commit
        "recorded_at": state["measured_at"],
        "reproduce": f"autodocket bench {rid}/problem.py {rid}/kernel.py --device {device_flag}",
    }


def speedup_chart(timing: dict | None) -> bytes | None:
    """Kernel vs eager vs torch.compile per input set: medians relative to eager (so small and
    large sets share one axis), with 20/80 percentile bars; absolute medians written above."""
    if not timing:
        return None
    try:
        import matplotlib
    except ImportError:  # the report then has the table without the chart
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sets = timing["sets"]
    names = ["kernel", "eager", "compile"]
    fig, ax = plt.subplots(figsize=(8, 4), dpi=110)
    width = 0.26
    for i, name in enumerate(names):
        xs, ys, lo, hi = [], [], [], []
        for j, s in enumerate(sets):
            t, base = s["first"].get(name), s["first"]["eager"]["median_ms"]
            if t:
                xs.append(j + (i - 1) * width)
                ys.append(t["median_ms"] / base)
                lo.append((t["median_ms"] - t["p20_ms"]) / base)
                hi.append((t["p80_ms"] - t["median_ms"]) / base)
                ax.text(xs[-1], ys[-1] + hi[-1] + 0.05, f"{t['median_ms']:.3g}", ha="center",
                        fontsize=6, rotation=90)
        ax.bar(xs, ys, width, yerr=[lo, hi], capsize=3, label=name)
    ax.set_xticks(range(len(sets)))
    ax.set_xticklabels([f"{s['input_set']}\n{'x'.join(map(str, s['shapes'][0]))}" for s in sets],
                       fontsize=8)
    ax.axhline(1.0, color="grey", linewidth=0.6)
    ax.set_ylabel("time / eager time (lower is faster)")
    ax.legend(fontsize=8)
    ax.set_title("kernel vs eager vs torch.compile; median ms above each bar", fontsize=9)
    ax.set_ylim(0, max(ax.get_ylim()[1], 1.2) * 1.12)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _money(usd: float | None) -> str:
    return "-" if usd is None else f"${usd:.4f}"


def guarantee(ev: dict) -> str:
    """What is known of the kernel's memory safety, in one phrase (report, `prs`)."""
    status = ev["verification"]["status"]
    dynamic = ev.get("dynamic_check") or {}
    if status == "proved":
        on = ev["verification"].get("launches_on")
        where = {"cuda": f" over its launches on the {(ev.get('device') or {}).get('name', 'GPU')}",
                 "cpu": " over its launches on the CPU (Triton's interpreter)"}.get(on, "")
        return f"proved in bounds and race-free by Z3{where}"
    if dynamic.get("status") == "clean":
        where = f" on input set {dynamic['input_set']}" if dynamic.get("input_set") else ""
        return f"Z3: {status}; {dynamic['kind']}{where}: clean (not a proof)"
    return f"Z3: {status}; no dynamic check: not shown memory-safe"


def measured_phrase(ev: dict) -> str:
    """The problem's parameters in one line (`prs`): "softmax bfloat16 rows=4096 cols=1000"."""
    p = ev.get("problem") or {}
    params = p.get("params") or {}
    return " ".join([str(p.get("origin") or "?")] + [
        str(v["value"]) if k == "dtype" else f"{k}={v['value']}" for k, v in params.items()])


def problem_lines(ev: dict) -> list[str]:
    """The problem's origin, every parameter with the words it came from, and the criterion's
    verdicts: what the researcher checks first (was it the task I wrote?)."""
    from agents.criteria import summary
    p = ev.get("problem") or {}
    origin = p.get("origin")
    source = {"researcher": "the researcher's own file", "model": "written by the planner model",
              None: "not recorded"}.get(origin, f"catalog family `{origin}`, posed with the "
                                                "task's parameters")
    lines = [f"- problem: {source}"]
    lines += [f"  - {name} = {v['value']} (from: {v['from']})"
              for name, v in (p.get("params") or {}).items()]
    lines.append(f"- criterion: {summary(ev.get('criteria') or [])}")
    lines += [f"  - {c['criterion']}: **{c['verdict']}**"
              + (f" — {c['measured']}" if c.get("measured") else "")
              + (f" ({c['why']})" if c.get("why") else "") for c in ev.get("criteria") or []]
    return lines


def verification_line(v: dict) -> str:
    """The verdict, then what the verifier counted and how long it took, where it said; an
    unsupported or failed verification says why instead of printing empty fields."""
    said = []
    if v.get("counts"):
        said.append(", ".join(f"{n} {what}" for what, n in v["counts"].items()))
    if v.get("analysis_seconds") is not None:
        said.append(f"analysis {v['analysis_seconds']} s")
    if why := v.get("error") or v.get("unsupported"):
        said.append(why if isinstance(why, str) else "; ".join(map(str, why))[:300])
    return f"**{v['status']}**" + (f" — {', '.join(said)}" if said else "")


def report_markdown(ev: dict, has_chart: bool) -> str:
    t, v = ev["task"], ev["verification"]
    lines = [f"# {t['title']}", "", f"Task `{t['id']}` from `{t['docket']}`: {t['text']}", "",
             "## What was measured", "", *problem_lines(ev), "",
             "## What was tried", "", f"- plan: {ev['plan']}",
             f"- coder: {ev['coder']['note']}" + (f" (config `{ev['coder']['config']}`)"
                                                  if ev["coder"].get("config") else ""),
             f"- attempts: {ev['attempts']}"]
    lines += [f"- feedback: {f}" for f in ev["feedback"]]
    lines += ["", "## Verification (Z3)", "", verification_line(v), ""]
    for f in v["findings"] or []:
        if f["status"] != "proved":
            lines.append(f"- {f['kernel']}: {f['obligation']} of {f['access']}: "
                         f"{f['status']} {f['detail']}")
    lines += ["", f"Guarantee: {guarantee(ev)}"]
    lines += ["", "## Correctness", "", "| input set | shapes | trials | max abs err | rel L2 |",
              "| --- | --- | --- | --- | --- |"]
    for row in ev["correctness"]["input_sets"] or []:
        if "skipped" in row:
            lines.append(f"| {row['input_set']} | skipped: {row['skipped']} | | | |")
        else:
            lines.append(f"| {row['input_set']} | {row['shapes']} | {row['trials']} | "
                         f"{row['max_abs_err']:.2e} | {row['rel_l2_err']:.2e} |")
    lines += ["", "## Timing", ""]
    if ev["timing"]:
        dev = ev["device"]
        lines += [f"On {dev.get('name')} (torch {dev.get('torch')}, triton {dev.get('triton')}); "
                  f"{ev['timing']['method']}; {ev['timing']['repeats']} runs per pass.", "",
                  "| input set | kernel ms | eager ms | compile ms | vs eager | vs compile |",
                  "| --- | --- | --- | --- | --- | --- |"]
        for s in ev["timing"]["sets"]:
            f = s["first"]
            comp = f.get("compile", {}).get("median_ms")
            vs_c = s.get("speedup_vs_compile")
            lines.append(f"| {s['input_set']} | {f['kernel']['median_ms']:.4f} | "
                         f"{f['eager']['median_ms']:.4f} | "
                         f"{f'{comp:.4f}' if comp else '-'} | {s['speedup_vs_eager']:.2f}x | "
                         f"{f'{vs_c:.2f}x' if vs_c else '-'} |")
        if has_chart:
            lines += ["", "![kernel vs eager vs torch.compile](speedup.png)"]
    else:
        lines.append("Correctness only, no timing: measured without a GPU. No speed is claimed.")
    prof = ev.get("profile")
    if prof and prof.get("status") == "profiled":
        lines += ["", "## Profile", ""] + [f"- {d}" for d in prof["diagnosis"]] + \
            [f"- not profiled: {m}" for m in prof["missing"]] + \
            [f"- note: {n}" for n in prof.get("notes", [])]
    c = ev["council"]["consensus"]
    lines += ["", "## Council", "", f"**{c['verdict']}** ({c['approvals']}/{c['seats']} approve; "
              f"{c['rule']})", ""]
    for r in ev["council"]["reviews"]:
        lines.append(f"- {r['seat']}: {r['verdict']} (confidence {r['confidence']})"
                     + "".join(f"\n  - {f['severity']}: {f['text']}" for f in r["findings"]))
    calls = ev["model_calls"]
    lines += ["", "## Model calls", "", "Roles: " + ", ".join(
        f"{role} {how}" for role, how in ev.get("backend", {}).items()) + ".", ""]
    if calls["requests"]:
        lines += [f"{calls['requests']} requests, {calls['tokens']} tokens, "
                  f"{_money(calls['cost_usd'])}" + (f" ({calls['unpriced']} without a price)"
                                                 if calls["unpriced"] else "") + ".", "",
                  "| role | model | outcome | tokens in | tokens out | cost | seconds |",
                  "| --- | --- | --- | --- | --- | --- | --- |"]
        lines += [f"| {c['role']} | {c['model']} | {c['outcome']} | {c['prompt_tokens']} | "
                  f"{c['completion_tokens']} | "
                  f"{_money(c.get('cost_usd'))} | {c.get('seconds')} |" for c in calls["calls"]]
    else:
        lines.append("No model was asked: the offline backend did this task.")
    lines += ["", "## Reproduce", "", f"    {ev['reproduce']}", ""]
    return "\n".join(lines)
