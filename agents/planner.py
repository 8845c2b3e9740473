"""Turn a docket task into a problem file (KernelBench form), or say why not.

The offline planner reads the task into a spec (`agents.spec`: operation, variant, sizes,
dtype, criterion, each with its words) and has the catalog family of that operation pose it
(`kernels.families`): the task's sizes are the default input set, its dtype the problem's.
What no family can express is `parked` with the reason; a task that names no computation and
no kernel work is `needs-human`. The model planner writes a new problem file, which must
parse, define the KernelBench names, run in the sandbox, and hold the sizes and dtype the
text names before it is used.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from kernels.library import CATALOG

@dataclass
class Plan:
    outcome: str  # planned | needs-human | parked
    problem: str | None = None  # the catalog family, or "researcher" / "model"
    reason: str = ""
    source: str = ""  # the problem file, when planned
    spec: dict | None = None  # what the text asked for (agents.spec), with its words
    params: dict | None = None  # the parameters measured, each with the words it came from


def plan_offline(title: str, text: str, criterion: str | None = None) -> Plan:
    """The task's own problem, posed by the catalog family that computes exactly what the text
    asks; never the nearest catalog problem instead."""
    from kernels.families import instantiate

    from agents.spec import read_spec
    spec = read_spec(title, text, criterion)
    if spec.kind != "kernel":
        return Plan("needs-human", reason="not a kernel task: the text names no computation "
                    "and no kernel work", spec=spec.to_dict())
    if spec.op is None:
        return Plan("parked", reason="a kernel task, but it names no operation the offline "
                    "planner knows; configure a model to plan it, or give the task its own "
                    "problem (a `- problem: path` sub-item)", spec=spec.to_dict())
    posed = instantiate(spec)
    if posed.outcome != "planned":
        return Plan("parked", posed.family, f"no offline plan: the task {posed.reason}",
                    spec=spec.to_dict())
    return Plan("planned", posed.family, posed.reason + ": " + spec.describe(), posed.source,
                spec.to_dict(), posed.params)


def write_problem(plan: Plan, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(plan.source, encoding="utf-8")
    return target


def sandbox_check(target: Path) -> list[dict]:
    """Run a problem file's reference on every input set in the sandbox (it is untrusted: a
    model or a docket wrote it). Raises ValueError with the reason when it does not run."""
    from tools.sandbox import Sandbox
    box = Sandbox(timeout=300)
    try:
        ran = box.run(["-m", "tools.problem", box.lend(target, "problem.py")])
    finally:
        box.close()
    if not ran.ok:
        raise ValueError(f"the problem file does not run: {ran.reason()}")
    return json.loads(ran.stdout.strip().splitlines()[-1])


def check_own(source: str, where: str, target: Path) -> Plan:
    """The researcher's own problem, used as written once its reference runs in the sandbox."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source, encoding="utf-8")
    try:
        sets = sandbox_check(target)
    except ValueError as err:
        return Plan("needs-human", reason=f"the task's own problem ({where}): {err}")
    return Plan("planned", "researcher", f"the researcher's own problem ({where}), used as "
                f"written; its reference ran on {len(sets)} input sets in the sandbox")


def spec_mismatches(spec, sets: list[dict]) -> list[str]:
    """What a problem file leaves out of the task: sizes the text names that no input set
    has, a dtype the text names that the problem does not use."""
    dims = {d for s in sets for shape in s["inputs"] for d in shape}
    missing = [f"{name} {value} ('{spec.words[name]}')" for name, value in spec.sizes.items()
               if value not in dims and name not in ("group", "top_k")]
    for shape in spec.shapes:
        if not any(all(d in inputs for d in shape) for s in sets for inputs in s["inputs"]):
            missing.append(f"shape {'x'.join(map(str, shape))} ('{spec.words['shapes']}')")
    problems = [f"no input set has {m}" for m in missing]
    dtypes = {s.get("dtype") for s in sets}
    if spec.dtype and f"torch.{spec.dtype}" not in dtypes:
        problems.append(f"the text asks for {spec.dtype} ('{spec.words['dtype']}'); the "
                        f"problem's DTYPE is {', '.join(sorted(map(str, dtypes)))}")
    return problems


def plan_with_model(role, title: str, text: str, target: Path, backoff_s: float):
    """(Plan, call records) from the planner model; raises models.ModelFailure. The problem
    it writes must run in the sandbox and hold the sizes and dtype the text names (the
    offline reader's spec): a mismatch goes back to it as feedback."""
    from agents.models import AnswerError, ask, json_object, one_block, prompt, python_file
    from agents.spec import read_spec
    spec = read_spec(title, text)

    def parse(answer: str) -> Plan:
        lang, body = one_block(answer, ("python", "json"))
        if lang == "json":
            value = json_object(answer)
            if value.get("kernel_task") is not False or not isinstance(value.get("reason"), str):
                raise AnswerError('the JSON answer must be {"kernel_task": false, "reason": "..."}')
            return Plan("needs-human", reason=f"not a kernel task (planner): {value['reason']}",
                        spec=spec.to_dict())
        python_file(body, "the problem file", {"Model", "get_inputs", "get_init_inputs"})
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
        try:
            sets = sandbox_check(target)
        except ValueError as err:
            raise AnswerError(str(err)) from None
        if mismatches := spec_mismatches(spec, sets):
            raise AnswerError("the problem does not pose the task: " + "; ".join(mismatches))
        return Plan("planned", "model", "problem written by the planner model; its reference "
                    f"ran on {len(sets)} input sets in the sandbox", spec=spec.to_dict())

    catalog = ", ".join(sorted(p.stem for p in CATALOG.glob("*.py") if p.stem != "__init__"))
    question = prompt("planner", title=title, text=text or "(no more text)", catalog=catalog,
                      example=(CATALOG / "softmax.py").read_text(encoding="utf-8").strip(),
                      spec=spec.describe() if spec.op else "no operation recognised")
    return ask(role, question, parse, backoff_s=backoff_s)
