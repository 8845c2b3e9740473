"""The offline coder inside the loop: the kernel library's template and torch.compile's own
Triton (the compiler seed), tried in `kernels.library.offerings` order.

Attempt 1 on a GPU screens them all in one process (kernels.library.solve: the template's
configurations and the seed) and keeps the fastest that the full harness then finds correct;
on the CPU, or on a retry after feedback, attempt n takes the n-th offline candidate (the
template's default, the seed, the template's next configurations). The model coder writes the
whole candidate, shown the problem, the best offline candidate to beat and every piece of
feedback so far.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from kernels.library import CATALOG, Offering, match, offerings, render, solve
from tools.bench import REPEATS, BenchReport


@dataclass
class Candidate:
    kernel: Path | None
    note: str
    config: dict | None = None
    search: list | None = None
    # the search's full measurement of this kernel (launch record included), where a search
    # measured it against eager and compile: the loop proves and keeps it, not a second run
    harness_run: BenchReport | None = None


# what the coder model is asked to write, by the language the task named
LANGUAGE_ASK = {
    "triton": "Write the kernels in Triton (@triton.jit), unless the task asks otherwise.",
    "cuda": "The task asks for CUDA C++: write the kernels in CUDA C++, built with "
            "torch.utils.cpp_extension.load_inline (cuda_sources, functions=[...]) and launched "
            "on at::cuda::getCurrentCUDAStream(); no cuBLAS, cuDNN or ATen compute inside.",
}


def code_offline(problem: Path, out: Path, attempt: int, device: str, budget: int = 4,
                 language: str = "triton", check_templates: bool = True,
                 researchers_problem: bool = False) -> Candidate:
    """`language`: what the task asked the kernel to be written in ("cuda" for CUDA C++).
    `check_templates`: screen a template against the problem before offering it; False for a
    problem a catalog family posed, whose template is the one written (and tested) for it.
    `researchers_problem`: the problem is the researcher's own (its declared tolerance holds)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if device == "cuda" and attempt == 1 and budget > 1:
        # the winner's measurement is the loop's: against eager and compile, as many timed runs
        # as the harness's own default (a screened candidate the harness then rejects costs its
        # baselines too: rare, the screen has checked every candidate's outputs already)
        result = solve(problem, out, device=device, budget=budget, repeats=REPEATS,
                       language=language, researchers_problem=researchers_problem)
        if result.status != "solved":
            return Candidate(None, result.reason or result.status)
        seeds = sum(1 for a in result.attempts if a.origin == "compiler seed")
        what = f"{result.family} template" if result.origin == "template" else \
            f"torch.compile's Triton (compiler seed), re-tuned: {seeds} configurations"
        return Candidate(out, f"{what}; of {len(result.attempts)} offline candidates screened "
                         "together on the GPU, the fastest the harness then found correct",
                         result.config,
                         [a.__dict__ for a in result.attempts], result.harness_run)
    offers, unavailable = [], []
    for offer in offerings(problem, device, budget=attempt, language=language):
        if not isinstance(offer, Offering):
            unavailable.append(offer.reason)
        elif check_templates and (why := does_not_reproduce(problem, offer, device)):
            unavailable.append(f"{offer.label}: {why}")
        else:
            offers.append(offer)
        if len(offers) == attempt:
            break
    if not offers:
        return Candidate(None, ("no offline solution: no CUDA C++ template fits this problem "
                                "(the compiler seed writes Triton)" if language == "cuda" else
                                "no offline solution: no template fits this problem")
                         + "".join(f"; {u}" for u in unavailable))
    if len(offers) < attempt:
        return Candidate(None, f"no offline candidate left to try (all {len(offers)} tried)")
    offer = offers[-1]
    out.write_text(offer.source)
    return Candidate(out, f"{offer.label}, offline candidate {attempt}", offer.config)


def does_not_reproduce(problem: Path, offer: Offering, device: str) -> str | None:
    """Why a template's candidate does not compute what the problem computes (its outputs
    against the problem's on the screen's input set, in the sandbox), or None. The compiler
    seed is the problem's own computation and needs no such check; C++/CUDA cannot be run
    without a GPU (the harness says so)."""
    from tools.bench.screen import screen
    from tools.bench.static import builds_extension
    if offer.origin != "template" or (device == "cpu" and builds_extension(offer.source)):
        return None
    with tempfile.TemporaryDirectory(prefix="autodocket-template-") as folder:
        path = Path(folder) / "template.py"
        path.write_text(offer.source)
        said = screen(problem, [path], device=device)[0]
    return None if said["status"] == "ok" else f"does not reproduce the problem ({said['detail']})"


def best_offline(problem: Path, device: str = "cpu", language: str = "triton") -> tuple[str, str]:
    """(what it is, its source): the candidate a model coder is asked to beat: the template that
    fits, else torch.compile's Triton, else a library kernel of the lab's style (softmax), in
    the language the task asked for."""
    for offer in offerings(problem, device, budget=1, language=language):
        if isinstance(offer, Offering):
            return offer.label, offer.source
    found = match(CATALOG / "softmax.py", language)
    return ("a kernel for a related problem (nothing offline fits this one)",
            render(found, found.template.DEFAULT))


def code_with_model(role, problem: Path, out: Path, feedback: list[str], backoff_s: float,
                    language: str = "triton"):
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

    origin, example = best_offline(problem, language=language)
    question = prompt("coder", problem=problem.read_text(encoding="utf-8").strip(),
                      origin=origin, example=example.strip(), language=LANGUAGE_ASK[language],
                      feedback="\n".join(f"- {f}" for f in feedback) or "(first attempt)")
    return ask(role, question, parse, backoff_s=backoff_s)
