"""Turn a docket task into a problem file (KernelBench form), or say why not.

The offline planner matches the task's text to the kernel catalog (`kernels/problems`). Tasks
that name no kernel work are `needs-human` (not a kernel task); kernel tasks the catalog does
not cover are `parked` with "no offline plan". The model planner writes a new problem file,
which must parse, define the KernelBench names and run in the sandbox before it is used.
"""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from kernels.library import CATALOG

# most specific first: "log-softmax" is a log_softmax task before it is a softmax one
CATALOG_PATTERNS = [
    ("log_softmax", r"log[- ]?softmax"),
    ("softmax", r"\bsoftmax\b"),
    ("rmsnorm_residual", r"\brms[- ]?norm"),
    ("layernorm", r"\blayer[- ]?norm"),
    ("bias_gelu", r"\bgelu\b"),
    ("swiglu", r"\bswiglu\b|\bsilu\b"),
    ("kv_quant_int3", r"\bint3\b|\b3-bit\b"),
]
KERNEL_WORDS = re.compile(r"\b(kernels?|triton|cuda|fused|fuse|fusion|quantiz\w*|softmax|"
                          r"norm\w*|matmul|gemm|attention|gelu|swiglu|silu|int[348]|fp8|bf16)\b",
                          re.IGNORECASE)


@dataclass
class Plan:
    outcome: str  # planned | needs-human | parked
    problem: str | None = None  # catalog problem name
    reason: str = ""


def plan_offline(title: str, text: str) -> Plan:
    words = f"{title} {text}"
    for name, pattern in CATALOG_PATTERNS:
        if re.search(pattern, words, re.IGNORECASE):
            return Plan("planned", name, f"catalog problem `{name}` matches {pattern!r}")
    if not KERNEL_WORDS.search(words):
        return Plan("needs-human", reason="not a kernel task: the text names no kernel work")
    return Plan("parked", reason="no offline plan: a kernel task, but no catalog problem "
                "matches it; configure a model to plan it")


def write_problem(plan: Plan, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CATALOG / f"{plan.problem}.py", target)
    return target


def plan_with_model(role, title: str, text: str, target: Path, backoff_s: float):
    """(Plan, call records) from the planner model; raises models.ModelFailure."""
    from agents.models import AnswerError, ask, json_object, one_block, prompt, python_file
    from tools.sandbox import Sandbox

    def parse(answer: str) -> Plan:
        lang, body = one_block(answer, ("python", "json"))
        if lang == "json":
            value = json_object(answer)
            if value.get("kernel_task") is not False or not isinstance(value.get("reason"), str):
                raise AnswerError('the JSON answer must be {"kernel_task": false, "reason": "..."}')
            return Plan("needs-human", reason=f"not a kernel task (planner): {value['reason']}")
        python_file(body, "the problem file", {"Model", "get_inputs", "get_init_inputs"})
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
        box = Sandbox(timeout=300)
        try:
            ran = box.run(["-m", "tools.problem", box.lend(target, "problem.py")])
        finally:
            box.close()
        if not ran.ok:
            raise AnswerError(f"the problem file does not run: {ran.reason()}")
        sets = json.loads(ran.stdout.strip().splitlines()[-1])
        return Plan("planned", target.stem, "problem written by the planner model; its "
                    f"reference ran on {len(sets)} input sets in the sandbox")

    catalog = ", ".join(sorted(p.stem for p in CATALOG.glob("*.py") if p.stem != "__init__"))
    question = prompt("planner", title=title, text=text or "(no more text)", catalog=catalog,
                      example=(CATALOG / "softmax.py").read_text(encoding="utf-8").strip())
    return ask(role, question, parse, backoff_s=backoff_s)

