"""The offline coder inside the loop: a template from the kernel library, tuned by measurement.

Attempt 1 on a GPU searches the template's configurations (kernels.library.solve); on the CPU,
or on a retry after feedback, it takes the next configuration of the template's grid.
The model coder writes the whole candidate, shown the problem, the library's closest template
and every piece of feedback so far.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kernels.library import CATALOG, configs, match, render, solve


@dataclass
class Candidate:
    kernel: Path | None
    note: str
    config: dict | None = None
    search: list | None = None


def code_offline(problem: Path, out: Path, attempt: int, device: str, budget: int = 4) -> Candidate:
    found = match(problem)
    if found is None:
        return Candidate(None, "no offline solution: no template fits this problem")
    out.parent.mkdir(parents=True, exist_ok=True)
    if device == "cuda" and attempt == 1 and budget > 1:
        result = solve(problem, out, device=device, budget=budget, final_check=False)
        if result.status != "solved":
            return Candidate(None, result.reason or result.status)
        return Candidate(out, f"{found.family} template, searched {len(result.attempts)} "
                         f"configurations on the GPU", result.config,
                         [a.__dict__ for a in result.attempts])
    grid = configs(found.template, budget=attempt)
    if len(grid) < attempt:
        return Candidate(None, f"{found.family} template: no configuration left to try")
    config = grid[attempt - 1]
    out.write_text(render(found, config))
    return Candidate(out, f"{found.family} template, configuration {attempt}", config)


def example_for(problem: Path) -> str:
    """The library kernel closest to the problem (a softmax one when no template fits)."""
    found = match(problem) or match(CATALOG / "softmax.py")
    return render(found, found.template.DEFAULT)


def code_with_model(role, problem: Path, out: Path, feedback: list[str], backoff_s: float):
    """(Candidate, call records) from the coder model; raises models.ModelFailure."""
    from agents.models import AnswerError, ask, one_block, prompt, python_file

    def parse(answer: str) -> Candidate:
        source = one_block(answer, ("python", "py"))[1]
        python_file(source, "the kernel file", {"ModelNew"})
        if "triton.jit" not in source and "load_inline" not in source:
            raise AnswerError("no @triton.jit kernel (or load_inline CUDA) in the file")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(source, encoding="utf-8")
        return Candidate(out, f"written by {role.name} model")

    question = prompt("coder", problem=problem.read_text(encoding="utf-8").strip(),
                      example=example_for(problem).strip(),
                      feedback="\n".join(f"- {f}" for f in feedback) or "(first attempt)")
    return ask(role, question, parse, backoff_s=backoff_s)
