"""Turn a docket task into a problem file (KernelBench form), or say why not.

The offline planner matches the task's text to the kernel catalog (`kernels/problems`). Tasks
that name no kernel work are `needs-human` (not a kernel task); kernel tasks the catalog does
not cover are `parked` with "no offline plan". A model-backed planner writes new problems.
"""
from __future__ import annotations

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
