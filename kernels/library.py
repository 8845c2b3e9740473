"""The offline coder: the problem's template (matched by its operations), searched over its
configurations, and torch.compile's own Triton written out as a candidate (the compiler seed,
kernels/seed) — a competitor where a template fits, the answer where none does.

    result = solve("problem.py", out="kernel.py", device="auto")

A problem neither covers is answered "no offline solution" with the reasons, never faked. On a
GPU the candidates are screened together in one process (checked and timed on every input set,
a ranking); a template that reads its tunables per shape class (kernels/shapes) also gets a
candidate with the screen's fastest configuration for each set's class; the full harness then
judges them best first by their times on every set (not the default set's alone), and the
first it finds correct is kept once the Z3 verifier finds no violation (else the next).
"""
from __future__ import annotations

import importlib
import inspect
import itertools
import pkgutil
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from kernels.seed import CPU_TUNING, GPU_TUNINGS, Tuning, compiler_seed
from tools.problem import problem_ops

from . import shapes
from . import templates as templates_pkg

if TYPE_CHECKING:
    from tools.bench import BenchReport

CATALOG = Path(__file__).parent / "problems"
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
    source: str = ""  # the problem's code, for templates that build ModelNew as it builds Model

    @property
    def family(self) -> str:
        return self.template.FAMILY


LANGUAGES = ("triton", "cuda")  # what a template is written in (its LANGUAGE, Triton if unsaid)
# the winner's final median this far from its screen's, either way, is measured once more
OFF_ITS_SCREEN = 0.05


def match(problem: Path, language: str = "triton") -> Match | None:
    """The template in `language` whose operations the problem uses most specifically; a
    template may narrow what it fits further (`fits(ops)`, the float dtypes it handles)."""
    source = problem.read_text()
    ops = problem_ops(source)
    declared = re.search(r"^DTYPE\s*=\s*torch\.(\w+)", source, re.M)
    dtype = declared.group(1) if declared else "float32"
    best = None
    for t in templates():
        if getattr(t, "LANGUAGE", "triton") != language or dtype not in getattr(
                t, "DTYPES", {dtype}) or not getattr(t, "fits", lambda _ops: True)(ops):
            continue
        fits = [req for req in t.REQUIRES if req <= ops and ops & _FOREIGN <= req]
        if fits and (best is None or max(map(len, fits)) > best[0]):
            best = (max(map(len, fits)), t)
    return Match(best[1], ops, source) if best else None


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
    template: Match | None = None  # what a template's source was rendered from

    @property
    def label(self) -> str:
        if self.origin == "template":
            return f"{self.family} template {self.config}"
        return f"torch.compile's Triton (compiler seed), launches: {Tuning(**self.config).label()}"


def offerings(problem: Path, device: str, budget: int,
              origins: tuple[str, ...] = ("template", "compiler seed"),
              language: str = "triton"):
    """The offline candidates for a problem, in the order to try them: the matching template's
    configurations (its default first), with torch.compile's Triton after the default (a
    competitor where a template fits, the answer where none does). Lazily: the seed costs a
    compile, which a caller content with the template's default never pays. A seed that
    could not be written comes as the `Seed` with its reason. A task that asks for CUDA C++
    (`language="cuda"`) gets the CUDA templates only: the seed is Triton."""
    if language == "cuda":
        origins = tuple(o for o in origins if o != "compiler seed")
    found = match(problem, language) if "template" in origins else None
    grid = configs(found.template, budget) if found else []
    for i, config in enumerate(grid or [None]):
        if config is not None:
            yield Offering("template", found.family, config, render(found, config), found)
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
    correct: bool  # the full harness's verdict (False where it never ran)
    median_ms: float | None  # the full harness's kernel medians, summed over the input sets
    reasons: list[str] = field(default_factory=list)
    origin: str = "template"
    screen: str | None = None  # on a GPU: ok | incorrect | crash, from the one-process screen
    screen_ms: float | None = None  # the screen's median on the default set (a ranking)
    screen_by_set: dict | None = None  # the screen's median on each input set (ms)
    # the measurements taken again, in order: one off the screen's time (its default-set
    # median) or rejected for its timing alone (its rejections)
    measured_before: list[dict] = field(default_factory=list)


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
    # the winner's final measurement itself, its launch record included (final_check only):
    # the loop proves and keeps this run instead of running the kernel again
    harness_run: BenchReport | None = field(default=None, repr=False)

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
          origins: tuple[str, ...] = ("template", "compiler seed"),
          language: str = "triton", researchers_problem: bool = False) -> SolveResult:
    """Try the offline candidates (`offerings`) and keep one that the harness finds correct and
    the verifier does not refute. On a GPU all of them are screened in one process first
    (`tools.bench.screen`: checked and timed together, seconds each) and the harness then
    judges the screened ones in turn, best on every input set first; on the CPU (no timing)
    they are judged one by one and the first correct one wins. `origins` limits the
    candidates to templates or to the compiler seed. The winner's final measurement, against
    eager and compile, is `measurement` (and `harness_run`, which the loop keeps);
    `final_check=False` measures it without them and keeps neither. `researchers_problem`: as
    `bench`'s (the problem's declared tolerance holds)."""
    from tools.bench import resolve_device

    problem = Path(problem).resolve()
    say = progress or (lambda _msg: None)
    device = resolve_device(device)
    scratch = Path(tempfile.mkdtemp(prefix="autodocket-solve-"))
    result = SolveResult("failed")
    unavailable: list[str] = []

    def written(offers):
        count = itertools.count()
        for offer in offers:
            if not isinstance(offer, Offering):  # a seed that could not be written
                unavailable.append(offer.reason)
                continue
            path = scratch / f"candidate_{next(count)}.py"
            path.write_text(offer.source)
            yield offer, path, None  # its Attempt comes with its first judgment

    try:
        offers = written(offerings(problem, device, budget if device == "cuda" else 1, origins,
                                   language))
        if device == "cuda":
            offers = _screened(problem, list(offers), result, say)
        best = _first_passing(problem, offers, device, repeats, final_check, result, say,
                              researchers_problem)
        if not result.attempts:
            result.status = "no-template"
            ops = sorted(problem_ops(problem.read_text()))
            result.reason = (f"no offline solution: no {language} template fits a problem "
                             f"using {', '.join(ops) or 'no recognised operations'}" + (
                                 "; compiler seed: " + "; ".join(unavailable) if unavailable
                                 else " (the compiler seed writes Triton, not CUDA C++)"
                                 if language == "cuda" else ""))
            return result
        if best is None:
            result.reason = result.reason or "nothing passed: " + "; ".join(
                f"{a.origin} {a.config or ''}: {', '.join(a.reasons) or a.verified}"
                for a in result.attempts) + "".join(f"; compiler seed: {u}" for u in unavailable)
            return result
        offer, path, measurement, proof = best
        target = Path(out) if out else problem.with_name(problem.stem + "_kernel.py")
        shutil.copyfile(path, target)
        result.status, result.config, result.kernel_path = "solved", offer.config, str(target)
        result.family, result.origin = offer.family, offer.origin
        if final_check:
            result.verification, result.measurement = proof.to_dict(), measurement.to_dict()
            result.harness_run = measurement
        return result
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _screened(problem: Path, offers: list, result: SolveResult, say) -> list:
    """Every candidate checked and timed in one sandboxed process; those that passed, for the
    full harness to judge, best first by their times on every input set
    (`shapes.ranked_by_every_set`), each with its Attempt; a shape-aware template's composed
    candidate (the fastest configuration per shape class) ranked among them by the times of
    the configurations it takes per set."""
    from tools.bench.screen import screen
    if not offers:
        return []
    say(f"screening {len(offers)} offline candidates in one process")
    passed = []
    results = screen(problem, [p for _, p, _ in offers])
    for (offer, path, _), said in zip(offers, results):
        attempt = Attempt(offer.config, "not verified", False, None, origin=offer.origin,
                          screen=said["status"], screen_ms=said["median_ms"])
        if said["status"] != "ok":
            attempt.reasons.append(f"screen: {said['detail']}")
        result.attempts.append(attempt)
        if said["status"] == "ok":
            attempt.screen_by_set = _set_times(said)
            passed.append((offer, path, attempt, attempt.screen_by_set))
    say(f"{len(passed)} of {len(offers)} passed the screen")
    if composed := _per_shape_class([(offer, said) for (offer, _, _), said in zip(offers, results)
                                     if said["status"] == "ok"]):
        per_shape, times = composed
        path = offers[0][1].with_name("candidate_per_shape_class.py")
        path.write_text(per_shape.source)
        attempt = Attempt(per_shape.config, "not verified", False, None, origin="template",
                          screen="composed", screen_ms=times.get("default"),
                          screen_by_set=times)
        result.attempts.append(attempt)
        passed.append((per_shape, path, attempt, times))
        say(f"{per_shape.label}: the screen's fastest configuration for each shape class")
    moved = {label: t["bytes"] for said in results for label, t in said.get("by_set", {}).items()
             if t.get("bytes") is not None}
    order = shapes.ranked_by_every_set([times for *_, times in passed], moved)
    return [passed[i][:3] for i in order]


def _set_times(said: dict) -> dict[str, float | None]:
    """A screened candidate's median on each input set (the default set's alone where the
    screen timed no other)."""
    return {label: t["median_ms"] for label, t in said.get("by_set", {}).items()} or \
        {"default": said["median_ms"]}


def _per_shape_class(screened: list) -> tuple[Offering, dict] | None:
    """A shape-aware template's candidate that takes, for each input set's shape class, the
    configuration the screen timed fastest there (kernels/shapes), with what the screen's
    times say it takes on each set; None where the template reads one configuration, or one
    configuration wins everywhere."""
    ours = [(offer, said) for offer, said in screened if offer.template is not None]
    if not ours or not getattr(ours[0][0].template.template, "SHAPE_AWARE", False):
        return None
    found = ours[0][0].template
    configs = [offer.config for offer, _ in ours]
    times = [_set_times(said) for _, said in ours]
    classes = {label: t["class"] for _, said in ours for label, t in said.get("by_set", {}).items()}
    config = shapes.composed(configs, times, classes)
    if not config:
        return None
    return (Offering("template", found.family, config, render(found, config), found),
            shapes.composed_times(config, configs, times, classes))


def _first_passing(problem: Path, offers, device: str, repeats: int, final_check: bool,
                   result: SolveResult, say, researchers_problem: bool = False):
    """The first of (offer, path, Attempt or None), in the order given, that the full harness
    finds correct and the verifier does not refute: (offer, path, its measurement, its proof),
    or None. A harness that cannot run at all sets `result.reason` and ends the search."""
    from tools.bench import bench_settled
    from tools.verify import verify
    for offer, path, attempt in offers:
        if attempt is None:
            attempt = Attempt(offer.config, "not verified", False, None, origin=offer.origin)
            result.attempts.append(attempt)
        say(f"{offer.label}: measuring")

        def measure(baselines: bool):
            measured = bench_settled(problem, path, device=device, repeats=repeats,
                                     baselines=baselines, record_launches=True,
                                     researchers_problem=researchers_problem)
            if measured.first_rejected:
                attempt.measured_before.append(
                    {"median_ms": None, "rejected": [r["reason"] for r in measured.first_rejected]})
            return measured
        # with timing against eager and compile only where this is the final measurement
        measured = measure(final_check)
        if final_check and _off_its_screen(attempt, measured):
            # the card or the host disturbed one of the two: one full measurement more, which
            # stands; the first is kept on the attempt
            attempt.measured_before.append({"median_ms": _default_ms(measured), "rejected": []})
            say(f"{offer.label}: {_default_ms(measured):.4f} ms, its screen "
                f"{attempt.screen_ms:.4f} ms: measuring again")
            measured = measure(True)
        if measured.status == "error":  # the problem or this machine: every one fails
            result.reason = f"the harness could not run: {measured.error}"
            return None
        attempt.correct = measured.status == "correct"
        attempt.reasons += measured.reasons()
        if measured.timing:
            attempt.median_ms = sum(s["first"]["kernel"]["median_ms"]
                                    for s in measured.timing["sets"])
        if not attempt.correct:
            continue
        proof = verify(problem, path, launches=measured.launch_record)
        attempt.verified = proof.status
        if proof.status in ("violated", "error"):
            attempt.reasons.append(proof.feedback())
            continue
        return offer, path, measured, proof
    return None


def _default_ms(measured) -> float:
    return measured.timing["sets"][0]["first"]["kernel"]["median_ms"]


def _off_its_screen(attempt: Attempt, measured) -> bool:
    """Whether a screened candidate's harness median on the default set is more than
    OFF_ITS_SCREEN from the screen's, either way (both timed alone on the card, the same
    way)."""
    if attempt.screen not in ("ok", "composed") or not attempt.screen_ms or \
            measured.status != "correct" or not measured.timing:
        return False
    return abs(_default_ms(measured) / attempt.screen_ms - 1) > OFF_ITS_SCREEN


def render(found: Match, config: dict) -> str:
    header = (f'"""Generated by autodocket\'s offline coder from the `{found.family}` template '
              f"(kernels/templates), configuration {config}.\"\"\"")
    reads_problem = "problem" in inspect.signature(found.template.render).parameters
    body = found.template.render(config, found.ops, **(
        {"problem": found.source} if reads_problem else {}))
    return header + "\n" + body.lstrip("\n")
