"""The offline coder inside the loop: a template from the kernel library, tuned by measurement.

Attempt 1 on a GPU searches the template's configurations (kernels.library.solve); on the CPU,
or on a retry after feedback, it takes the next configuration of the template's grid.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kernels.library import configs, match, render, solve


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
