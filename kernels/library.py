"""The offline coder: the problem's template (matched by its operations), searched over its
configurations, and torch.compile's own Triton written out as a candidate (the compiler seed,
kernels/seed) — a competitor where a template fits, the answer where none does.

    result = solve("problem.py", out="kernel.py", device="auto")

A problem neither covers is answered "no offline solution" with the reasons, never faked; every
candidate is measured (the harness), and the fastest correct one is kept only once the Z3
verifier finds no violation (the next fastest is proved if it fails).
"""
from __future__ import annotations

import importlib
import itertools
import pkgutil
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType

from kernels.seed import CPU_TUNING, GPU_TUNINGS, Tuning, compiler_seed
from tools.problem import problem_ops

from . import templates as templates_pkg

CATALOG = Path(__file__).parent / "problems"
GOOD_ENOUGH = 0.9  # of the roofline: a configuration this close ends the search
# a template fits a problem that does one of these only if it names the op in REQUIRES: a
# softmax inside attention is not a softmax problem
_FOREIGN = {"matmul", "mm", "bmm", "linear", "conv2d", "scaled_dot_product_attention",
            "attention", "cross_entropy", "einsum"}


def templates() -> list[ModuleType]:
    return [importlib.import_module(f"{templates_pkg.__name__}.{m.name}")
            for m in pkgutil.iter_modules(templates_pkg.__path__)]


@dataclass
class Match:
    template: ModuleType
    ops: set[str]

    @property
    def family(self) -> str:
        return self.template.FAMILY


def match(problem: Path) -> Match | None:
    ops = problem_ops(problem.read_text())
    best = None
    for t in templates():
        fits = [req for req in t.REQUIRES if req <= ops and ops & _FOREIGN <= req]
        if fits and (best is None or max(map(len, fits)) > best[0]):
            best = (max(map(len, fits)), t)
    return Match(best[1], ops) if best else None


def configs(template: ModuleType, budget: int) -> list[dict]:
    """The default first, then the template's PREFERRED points (where a family knows its good
    corners, e.g. matmul tiles), then the other valid points of the grid, at most `budget`."""
    keys = list(template.PARAMS)
    grid = [dict(zip(keys, values)) for values in itertools.product(
        *(template.PARAMS[k] for k in keys))]
    preferred = [c for c in getattr(template, "PREFERRED", []) if c != template.DEFAULT]
    rest = [c for c in grid if c != template.DEFAULT and c not in preferred and template.valid(c)]
    return ([template.DEFAULT] + preferred + rest)[:budget]


@dataclass
class Offering:
    """One offline candidate: a template configuration, or torch.compile's Triton."""
    origin: str  # template | compiler seed
    family: str
    config: dict | None
    source: str

    @property
    def label(self) -> str:
        if self.origin == "template":
            return f"{self.family} template {self.config}"
        return f"torch.compile's Triton (compiler seed), launches: {Tuning(**self.config).label()}"


def offerings(problem: Path, device: str, budget: int,
              origins: tuple[str, ...] = ("template", "compiler seed")):
    """The offline candidates for a problem, in the order to try them: the matching template's
    configurations (its default first), with torch.compile's Triton after the default (a
    competitor where a template fits, the answer where none does). Lazily: the seed costs a
    compile, which a caller content with the template's default never pays. A seed that
    could not be written comes as the `Seed` with its reason."""
    found = match(problem) if "template" in origins else None
    grid = configs(found.template, budget) if found else []
    for i, config in enumerate(grid or [None]):
        if config is not None:
            yield Offering("template", found.family, config, render(found, config))
        if i == 0 and "compiler seed" in origins:
            # on a GPU, re-tuned: one candidate per launch configuration, up to the budget
            tunings = GPU_TUNINGS[:max(1, budget)] if device == "cuda" else [CPU_TUNING]
            for tuning in tunings:
                seed = compiler_seed(problem, device, tuning)
                if seed.source is None:
                    yield seed
                    break
                yield Offering("compiler seed", "compiler-seed", asdict(tuning), seed.source)


@dataclass
class Attempt:
    config: dict | None
    verified: str
    correct: bool
    median_ms: float | None
    reasons: list[str] = field(default_factory=list)
    origin: str = "template"


@dataclass
class SolveResult:
    status: str  # solved | no-template | failed
    family: str | None = None
    config: dict | None = None
    kernel_path: str | None = None
    attempts: list[Attempt] = field(default_factory=list)
    verification: dict | None = None
    measurement: dict | None = None
    reason: str | None = None
    origin: str | None = None  # template | compiler seed

    @property
    def exit_code(self) -> int:
        return 0 if self.status == "solved" else 1

    def to_dict(self) -> dict:
        return {"status": self.status, "family": self.family, "origin": self.origin,
                "config": self.config, "kernel_path": self.kernel_path, "reason": self.reason,
                "attempts": [a.__dict__ for a in self.attempts],
                "verification": self.verification, "measurement": self.measurement}


def solve(problem: str | Path, out: str | Path | None = None, *, device: str = "auto",
          budget: int = 4, repeats: int = 30, progress=None,
          final_check: bool = True,
          origins: tuple[str, ...] = ("template", "compiler seed")) -> SolveResult:
    """Try the offline candidates (`offerings`): on a GPU each is measured and the fastest
    correct one that the verifier does not refute wins; on the CPU (no timing) the first
    correct one. `origins` limits the candidates to templates or to the compiler seed.
    `final_check=False` skips verifying and measuring the winner against eager
    and compile: the loop's own verify and measure nodes do that next."""
    from tools.bench import bench, resolve_device
    from tools.verify import verify

    problem = Path(problem).resolve()
    say = progress or (lambda _msg: None)
    device = resolve_device(device)
    scratch = Path(tempfile.mkdtemp(prefix="autodocket-solve-"))
    result = SolveResult("failed")
    measured_ok: list[tuple[float, Attempt, Path, dict, Offering]] = []
    recorded: dict[Path, dict | None] = {}  # each candidate's launches, from its bench
    unavailable: list[str] = []
    try:
        tried = 0
        for offer in offerings(problem, device, budget if device == "cuda" else 1, origins):
            if not isinstance(offer, Offering):  # a seed that could not be written
                unavailable.append(offer.reason)
                continue
            path = scratch / f"candidate_{tried}.py"
            tried += 1
            path.write_text(offer.source)
            say(f"{offer.label}: measuring")
            measured = bench(problem, path, device=device, repeats=repeats, baselines=False,
                             record_launches=True)
            if measured.status == "error":  # the problem or this machine: every one fails
                result.reason = f"the harness could not run: {measured.error}"
                return result
            median = None
            if measured.timing:
                median = sum(s["first"]["kernel"]["median_ms"] for s in measured.timing["sets"])
            attempt = Attempt(offer.config, "not verified", measured.status == "correct", median,
                              measured.reasons(), offer.origin)
            result.attempts.append(attempt)
            if attempt.correct:
                score = median if median is not None else float(tried)
                measured_ok.append((score, attempt, path, measured.to_dict(), offer))
                recorded[path] = measured.launch_record
                spot = measured.roofline
                if spot and spot["fraction_of_ceiling"] >= GOOD_ENOUGH:
                    say(f"{spot['fraction_of_ceiling']:.0%} of the card's {spot['bound']} "
                        "ceiling: the search stops here")
                    break
            if device == "cpu" and measured_ok:
                break  # nothing is timed on the CPU: the first correct one will do
        if not result.attempts:
            result.status = "no-template"
            ops = sorted(problem_ops(problem.read_text()))
            result.reason = ("no offline solution: no template fits a problem using "
                             f"{', '.join(ops) or 'no recognised operations'}; compiler seed: "
                             + "; ".join(unavailable))
            return result
        # prove the fastest first: the slower ones are verified only if it fails its proof
        best = None
        for score, attempt, path, measurement, offer in sorted(measured_ok, key=lambda m: m[0]):
            proof = verify(problem, path, launches=recorded.get(path))
            attempt.verified = proof.status
            if proof.status in ("violated", "error"):
                attempt.reasons.append(proof.feedback())
                continue
            best = (attempt, path, measurement, offer)
            break
        if best is None:
            result.reason = "nothing passed: " + "; ".join(
                f"{a.origin} {a.config or ''}: {', '.join(a.reasons) or a.verified}"
                for a in result.attempts) + "".join(f"; compiler seed: {u}" for u in unavailable)
            return result
        attempt, path, winner_measurement, offer = best
        target = Path(out) if out else problem.with_name(problem.stem + "_kernel.py")
        shutil.copyfile(path, target)
        if final_check:
            say(f"winner {offer.label}: final verification and measurement against eager "
                "and compile")
        result.status, result.config, result.kernel_path = "solved", offer.config, str(target)
        result.family, result.origin = offer.family, offer.origin
        if not final_check:
            return result
        result.verification = verify(problem, target).to_dict()
        # on the CPU nothing is timed: the search's correctness run is the final one
        result.measurement = winner_measurement if device == "cpu" else \
            bench(problem, target, device=device).to_dict()
        if result.measurement["status"] != "correct":
            result.status, result.reason = "failed", "the winner failed its final measurement"
        return result
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def render(found: Match, config: dict) -> str:
    header = (f'"""Generated by autodocket\'s offline coder from the `{found.family}` template '
              f"(kernels/templates), configuration {config}.\"\"\"")
    return header + "\n" + found.template.render(config, found.ops).lstrip("\n")
