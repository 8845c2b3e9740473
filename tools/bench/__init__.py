"""Measure a candidate against its problem: correctness you can trust, then timing on a GPU.

    report = bench("problem.py", "kernel.py", device="auto")
    report.status      # correct | rejected | error
    report.rejections  # every reason, named (see static.POLICY and tools.bench.judge)

Three processes, and the verdict is made in the one that runs neither the problem nor the
candidate. The reference runs in one sandbox (`tools.bench.reference`: expected outputs, its
weights, the eager and torch.compile times); the candidate in another (`tools.bench.candidate`:
its outputs and times for inputs drawn, from a seed only this process and the reference's
know, before it was imported; nothing else); this process reads what both wrote as data,
compares, bounds the problem's tolerance (read from the problem file, not from the reference's
report), and checks the candidate's reported times against the wall clock it watched itself
(`tools.bench.judge`). What the candidate's process says is never a verdict: a run in which
any input set went unjudged is `incomplete`, a protocol line out of order `protocol`.
Static checks of the source run here too. Without a GPU the kernels run in Triton's
interpreter: correctness only, and no speedup is claimed.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import math
import os
import re
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tools.cache import cache_path, write_atomic
from tools.sandbox import SERIAL_INDUCTOR, Sandbox, SandboxUnavailable

from . import judge, runtime
from .judge import BadTolerance
from .static import builds_extension, check_source, rejections

HARNESS_VERSION = "12"  # bump when a verdict or what the reference writes changes: caches key on it
MACHINE_REASONS = {"timeout", "memory", "disk", "processes"}  # a load-dependent end: not cached
# the timing checked against the wall clock the harness watched: a host starved by other work
# stretches an honest kernel's wall clock too, so these alone are worth one measurement more
TIMING_REASONS = {"timing-disagrees", "stream-or-thread"}
REPEATS = 100  # timed runs per pass of a measurement: the loop's evidence, the CLI's default


@dataclass
class BenchReport:
    status: str
    device: dict = field(default_factory=dict)
    correctness: list | None = None
    timing: dict | None = None
    rejections: list[dict] = field(default_factory=list)
    static: list[dict] = field(default_factory=list)
    tolerance: dict | None = None
    error: str | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    roofline: dict | None = None  # the default input set against the card's ceilings (GPU)
    # a run that watched every memory access: bounds-checked interpreter (CPU) or
    # compute-sanitizer (GPU); what licenses a kernel Z3 could not prove
    dynamic_check: dict | None = None
    cached: bool = False  # a CPU verdict for the same two files, from this machine's cache
    # wall seconds of each harness stage (reference, candidate, sanitizer, card): where a
    # measurement's time goes
    stages: dict[str, float] = field(default_factory=dict)
    # the candidate's launches on every input set, when asked for (data for the verifier;
    # not part of the report's dict)
    launch_record: dict | None = field(default=None, repr=False)
    # the rejections of a first measurement set aside for its timing alone (`bench_settled`)
    first_rejected: list[dict] | None = None

    @property
    def exit_code(self) -> int:
        return {"correct": 0, "rejected": 1}.get(self.status, 2)

    def reasons(self) -> list[str]:
        return [r["reason"] for r in self.rejections]

    def rejected_for_timing_only(self) -> bool:
        return self.status == "rejected" and bool(self.rejections) and \
            set(self.reasons()) <= TIMING_REASONS

    def feedback(self) -> str:
        lines = [f"rejected ({r['reason']}): {r['detail']}" for r in self.rejections]
        lines += [f"flag ({f['name']}) line {f['line']}: {f['text']}" for f in self.static
                  if f["action"] == "flag"]
        return "\n".join(lines + ([self.error] if self.error else []))

    def speedups(self) -> list[dict]:
        if not self.timing:
            return []
        return [{"input_set": s["input_set"], "vs_eager": s.get("speedup_vs_eager"),
                 "vs_compile": s.get("speedup_vs_compile")} for s in self.timing["sets"]]

    @classmethod
    def from_dict(cls, data: dict, **overrides) -> "BenchReport":
        """The report `to_dict` wrote (the cache's, a checkpoint's); `speedups` is derived."""
        return cls(**{**{k: v for k, v in data.items() if k != "speedups"}, **overrides})

    def to_dict(self) -> dict:
        return {"status": self.status, "device": self.device, "tolerance": self.tolerance,
                "correctness": self.correctness, "timing": self.timing,
                "speedups": self.speedups(), "rejections": self.rejections,
                "static": self.static, "notes": self.notes, "error": self.error,
                "roofline": self.roofline, "dynamic_check": self.dynamic_check,
                "cached": self.cached, "seconds": round(self.seconds, 2),
                "stages": self.stages, "first_rejected": self.first_rejected}


def resolve_device(device: str) -> str:
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, not {device!r}")
    if device != "auto":
        return device
    import torch
    return "cuda" if torch.cuda.is_available() else "cpu"


@contextmanager
def _stage(report: BenchReport, name: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        report.stages[name] = round(report.stages.get(name, 0.0) + time.perf_counter() - start,
                                    2)


@contextmanager
def host_lock(name: str):
    """An exclusive lock shared by every process of this host (a file in the host's temporary
    folder, which no sandbox's private /tmp hides); yields the seconds spent waiting for it."""
    path = Path(tempfile.gettempdir()) / f"autodocket-{name}.lock"
    start = time.perf_counter()
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield time.perf_counter() - start
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _CardLock:
    """One GPU's lock, shared by every process of this host: a run holds it shared while it
    uses the card untimed (building, checking outputs, compiling the reference) and alone while
    something on the card is timed. A turnstile in front gives a waiting timer priority: runs
    arriving after it queue behind it while those already in reach their end or their own
    timed phase."""

    def __init__(self, gpu: str):
        base = Path(tempfile.gettempdir())
        self.gpu = gpu
        self.gate = (base / f"autodocket-gpu-{gpu}.gate").open("a")
        self.card = (base / f"autodocket-gpu-{gpu}.lock").open("a")
        self.mode: str | None = None
        self.waited = 0.0  # seconds this process has waited for it, in all
        self._asked = self._got = 0.0

    def take(self, mode: str) -> float:
        self._asked, start = time.time(), time.perf_counter()
        fcntl.flock(self.gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(self.card, fcntl.LOCK_EX if mode == "alone" else fcntl.LOCK_SH)
        finally:
            fcntl.flock(self.gate, fcntl.LOCK_UN)
        self.mode, self._got = mode, time.time()
        waited = time.perf_counter() - start
        self.waited += waited
        return waited

    def drop(self) -> None:
        fcntl.flock(self.card, fcntl.LOCK_UN)
        if log := os.environ.get(CARD_LOG):
            with open(log, "a") as out:  # one short line per write: appends do not interleave
                out.write(json.dumps({"pid": os.getpid(), "gpu": self.gpu, "mode": self.mode,
                                      "asked": self._asked, "got": self._got,
                                      "gave": time.time()}) + "\n")
        self.mode = None


CARD_LOG = "AUTODOCKET_CARD_LOG"  # a file: every hold on a card is appended to it (benchmarks)


def card_log_summary(path: Path) -> dict[str, dict] | None:
    """What the holds written to a card log say about each card over a run (seconds): alone
    (the timed phases), held shared and not alone, free, and how long requests waited; None
    where nothing was written."""
    try:
        holds = [json.loads(line) for line in Path(path).read_text().splitlines() if line]
    except (OSError, ValueError):
        return None
    return {gpu: _card_use([h for h in holds if h["gpu"] == gpu])
            for gpu in sorted({h["gpu"] for h in holds})} or None


def _card_use(holds: list[dict]) -> dict:
    def union(spans: list[tuple[float, float]]) -> float:
        total, end = 0.0, float("-inf")
        for a, b in sorted(spans):
            if b > end:
                total += b - max(a, end)
                end = b
        return total

    def waits(mode: str) -> dict:
        w = sorted(h["got"] - h["asked"] for h in holds if h["mode"] == mode)
        return {"count": len(w), "median_s": round(statistics.median(w), 2) if w else None,
                "max_s": round(w[-1], 2) if w else None, "total_s": round(sum(w), 1)}
    span = max(h["gave"] for h in holds) - min(h["asked"] for h in holds)
    alone = union([(h["got"], h["gave"]) for h in holds if h["mode"] == "alone"])
    busy = union([(h["got"], h["gave"]) for h in holds])
    return {"span_s": round(span, 1), "alone_s": round(alone, 1),
            "shared_only_s": round(busy - alone, 1), "free_s": round(span - busy, 1),
            "waits": {"alone": waits("alone"), "shared": waits("shared")}}


_card_locks: dict[str, _CardLock] = {}


def card_wait() -> float:
    """Seconds this process has waited for its GPUs' locks so far (other runs held them)."""
    return sum(lock.waited for lock in _card_locks.values())


@contextmanager
def gpu_lock(device: str, mode: str = "shared"):
    """Use this GPU: "shared" for untimed work (any number of runs at once), "alone" while
    timing (two runs on one card would time each other's kernels). A lock per visible GPU,
    held per process: inside a hold of its own a shared request passes through, and an "alone"
    one lets the shared hold go while it waits (two runs each holding the card shared and
    waiting for it alone would wait on each other forever), then takes it back. Yields the
    seconds spent waiting. The CPU path needs none."""
    if device != "cuda":
        yield 0.0
        return
    gpu = (os.environ.get("CUDA_VISIBLE_DEVICES") or "0").split(",")[0].strip()
    lock = _card_locks.get(gpu) or _card_locks.setdefault(gpu, _CardLock(gpu))
    before = lock.mode
    if before == "alone" or before == mode:
        yield 0.0
        return
    if before == "shared":
        lock.drop()
    waited = lock.take(mode)
    try:
        yield waited
    finally:
        lock.drop()
        if before == "shared":
            lock.take("shared")


class _ChildHold:
    """One child's hold on the card (none, shared or alone), changed in place: unlike nested
    `gpu_lock`s, letting go of "alone" at the child's end takes nothing back, since nothing
    here needs the card after the child."""

    def __init__(self, device: str):
        self.device, self.mode, self._held = device, None, ExitStack()

    def take(self, mode: str) -> None:
        if self.mode in ("alone", mode):
            return
        self._held.close()  # a shared hold goes before "alone" is waited for (`gpu_lock`)
        self._held.enter_context(gpu_lock(self.device, mode))
        self.mode = mode

    def __enter__(self) -> "_ChildHold":
        return self

    def __exit__(self, *exc) -> None:
        self._held.close()
        self.mode = None


def _installed(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("+")[0].split(".")[:2] if part.isdigit())


def interpreter_unusable() -> str | None:
    """Why Triton's CPU interpreter cannot run kernels here, or None. A broken interpreter
    would reject every kernel as a crash: that is this machine's fault, not the kernel's."""
    triton, numpy = _installed("triton"), _installed("numpy")
    if triton and numpy and _release(triton) < (3, 7) and _release(numpy) >= (2, 4):
        # Triton <= 3.6 turns a 1-element array into an int, which NumPy 2.4 refuses
        return (f"Triton {triton}'s interpreter cannot run loops under NumPy {numpy}: "
                "install numpy<2.4 or Triton >= 3.7 for CPU runs")
    return None


def bench_settled(problem: str | Path, kernel: str | Path, **settings) -> BenchReport:
    """`bench`, and once more where it rejected the kernel for its timing alone: a host starved
    by other work (a search's compiles) stretches an honest kernel's wall clock past the
    judge's checks too, and a kernel hiding work is rejected again. The second verdict stands;
    the first's rejections are kept (`first_rejected`)."""
    report = bench(problem, kernel, **settings)
    if report.rejected_for_timing_only():
        first = report.rejections
        report = bench(problem, kernel, **settings)
        report.first_rejected = first
    return report


def bench(problem: str | Path, kernel: str | Path, *, device: str = "auto",
          timeout: float | None = None, repeats: int = REPEATS, memory_gb: float = 16,
          baselines: bool = True, researchers_problem: bool = False,
          sanitize: bool = False, use_cache: bool = True,
          record_launches: bool = False) -> BenchReport:
    """`baselines=False` times the kernel alone (the offline search compares configs).
    `researchers_problem`: the problem file is the researcher's own (not a model's), so it may
    declare a tolerance looser than its dtype's bound. `sanitize`: on a GPU, also run the
    smallest input set's trials under compute-sanitizer (`sanitizer_tools`; for a kernel Z3
    did not prove; on the CPU every trial is bounds-checked anyway). A CPU verdict is cached
    by the two files' content (`use_cache=False` runs it again). `record_launches`: the
    candidate's process also records its launches on every input set for the verifier
    (`report.launch_record`, for `verify(..., launches=...)`); a cached verdict has none."""
    problem, kernel = Path(problem).resolve(), Path(kernel).resolve()
    for path in (problem, kernel):
        if not path.is_file():
            return BenchReport("error", error=f"{path}: no such file")
    device = resolve_device(device)
    if device == "cpu" and (why := interpreter_unusable()):
        return BenchReport("error", error=why)
    key = content_key(problem, kernel, str(researchers_problem)) \
        if device == "cpu" and use_cache else None
    if key and (known := _json(cache_path("bench", f"{key}.json"))):
        return BenchReport.from_dict(known, cached=True)
    problem_text = problem.read_text(errors="replace")  # a file may declare another coding
    fp32 = "bfloat16" not in problem_text and "float16" not in problem_text
    static = check_source(kernel.read_text(errors="replace"), problem_is_fp32=fp32)
    report = BenchReport("correct", static=[f.to_dict() for f in static])
    report.rejections += [{"reason": f.name, "detail": f"line {f.line}: {f.text}"}
                          for f in rejections(static)]
    if device == "cpu" and builds_extension(kernel.read_text(errors="replace")):
        no_gpu = "the candidate builds C++/CUDA (cpp_extension): running it needs a CUDA GPU " \
                 "and nvcc, and this run has no GPU"
        if report.rejections:  # what the source shows is a verdict even unrun
            report.status = "rejected"
            report.notes.append(f"not run: {no_gpu}")
            return report
        return BenchReport("error", error=no_gpu, static=report.static)
    start, waited_before = time.perf_counter(), card_wait()
    try:
        # no hold on the card around it all: each child holds it while it uses it
        # (`serve_card`, `_ChildHold`), so a run beside this one waits for a window, not for
        # this one's imports and compiles
        _measure(problem, kernel, device, report, timeout or (900 if device == "cuda" else 300),
                 repeats, memory_gb, baselines, researchers_problem, sanitize, record_launches)
    except (SandboxUnavailable, BadTolerance, _HarnessError) as err:
        return BenchReport("error", error=str(err), seconds=time.perf_counter() - start,
                           static=report.static)
    report.seconds = time.perf_counter() - start
    waited = card_wait() - waited_before  # for other runs on this card (overlaps the stages)
    if device == "cuda":
        report.stages["card-wait"] = round(waited, 2)
    if waited > 1:
        report.notes.append(f"waited {waited:.0f} s for the GPU: other runs were using it")
    if device == "cpu" and report.correctness is not None:
        report.notes.append("correctness only, no timing: no GPU here")
    if report.rejections:
        report.status = "rejected"
    if key and not MACHINE_REASONS & set(report.reasons()):  # only this side writes the cache
        write_atomic(cache_path("bench", f"{key}.json"), json.dumps(report.to_dict()))
    return report


def content_key(problem: Path, kernel: Path, *extra: str) -> str:
    """What a CPU judgment of the two files depends on: their content, the harness and the
    libraries (seeded inputs, no timing). The loop's measure node finds the offline search's
    verdict by it; the CPU screen keys its answers by it too."""
    from importlib.metadata import version
    parts = [problem.read_bytes(), Path(kernel).read_bytes(), *(e.encode() for e in extra),
             HARNESS_VERSION.encode(), version("torch").encode(), version("triton").encode()]
    return hashlib.sha256(b"\0".join(hashlib.sha256(p).digest() for p in parts)).hexdigest()


class _HarnessError(RuntimeError):
    """The problem or this machine, not the candidate, kept the harness from judging."""


def _measure(problem: Path, kernel: Path, device: str, report: BenchReport, timeout: float,
             repeats: int, memory_gb: float, baselines: bool, researchers_problem: bool,
             sanitize: bool, record_launches: bool) -> None:
    """Reference, then candidate, each in its own sandbox; every verdict made here."""
    gpu, timing = device == "cuda", device == "cuda"
    env = {"TRITON_INTERPRET": "1"} if device == "cpu" else {}
    plan = {"timing": timing, "baselines": baselines, "repeats": repeats}
    cand_box = None
    with _stage(report, "reference"):
        ref_dir, ref_spans, ref_run = _reference(problem, device, plan, timeout, memory_gb, env)
    try:
        meta = _json(ref_dir / "meta.json")
        seed = int((ref_dir / SEED_FILE).read_text())
        _inner_steps(report, "reference", meta)
        sets = [s for s in meta["sets"] if "skipped" not in s]
        tol = judge.tolerance(meta, device, researchers_problem,
                              problem.read_text(errors="replace"),
                              _output_dtype(ref_dir, sets))
        report.tolerance = {k: tol[k] for k in ("atol", "rtol", "dtype")}
        report.notes += meta.get("notes", []) + ([tol["note"]] if "note" in tol else [])
        with _stage(report, "card"):
            report.device = card_info(device) if gpu else _cpu_info()
        report.correctness = [{"input_set": s["label"], "skipped": s["skipped"]}
                              for s in meta["sets"] if "skipped" in s]
        if not sets:
            report.rejections.append({"reason": "no-input-set", "detail": "every input set is "
                                      "too large for the CPU interpreter; add a small one to "
                                      "SHAPES"})
            return
        cand_box = Sandbox(timeout=timeout, memory_gb=memory_gb, gpu=gpu, env=env)
        cand_box.cache_extensions_of(kernel)
        if gpu:  # a screened template's kernels load instead of compiling under its hold
            cand_box.borrow_screen_compiles(problem)
        shutil.copyfile(problem, cand_box.scratch / "problem.py")  # the child deletes its copy
        plan = {**plan, "sets": [s["label"] for s in sets], "dtype": meta["dtype"],
                "record_dtype": meta["declared_dtype"], "record_launches": record_launches,
                "claim_card": gpu}
        (cand_box.scratch / "plan.json").write_text(json.dumps(plan))
        inside = cand_box.inside_scratch
        candidate_started = time.perf_counter()
        running = cand_box.start(
            ["-m", "tools.bench.candidate", f"{inside}/problem.py",
             cand_box.lend(kernel, "kernel.py"), cand_box.lend(ref_dir / "init.pt"),
             cand_box.lend(ref_dir / "state.pt"), device, f"{inside}/plan.json"],
            interactive=True)
        # from its claim the candidate holds the card shared, and from its first timed phase
        # alone, until its process is gone: the judged code gets no window to run kernels
        # beside another run's timing
        with _ChildHold(device) as hold:
            answered = _judge_outputs(running, sets, cand_box.scratch / "outputs",
                                      ref_dir / "expected", tol, report, hold, seed, timing)
            cand_run = running.wait()
        rows, cand_spans = answered.rows, answered.spans
        report.stages["candidate"] = round(time.perf_counter() - candidate_started, 2)
        if not cand_run.sandboxed:
            report.notes += cand_run.isolation[:1]
        cand = _json(cand_box.scratch / "report.json")
        report.correctness = rows + report.correctness
        report.launch_record = _json(cand_box.scratch / "launches.json")
        if not isinstance(cand, dict) or (wrong := _malformed(cand)):
            if cand_run.ok:
                report.rejections.append({"reason": "no-report", "detail": "the candidate's "
                                          "process ended without a readable report" + (
                                              f" (its {wrong!r} is not what the harness "
                                              "writes)" if isinstance(cand, dict) else "")})
            cand = {}
        _inner_steps(report, "candidate", cand)
        judged_wrong = bool(report.rejections)
        _judge_report(cand, cand_run, meta, report)
        if not judged_wrong and not MACHINE_REASONS & set(report.reasons()) and \
                (missing := answered.unjudged(sets)):
            # the process ended (well, or crashed) before every comparison: nothing it wrote
            # about itself stands in for one
            report.rejections.append({"reason": "incomplete", "detail": "the candidate's "
                                      f"process ended before {missing} was judged"})
        if timing and not report.rejections:
            _judge_timing(meta, ref_dir, cand_box.scratch, ref_spans, cand_spans, sets,
                          repeats, report)
        # the sanitizer's finding is the coder's best feedback even where the kernel already
        # failed (a stray store often shows as a wrong output first); not after a kill
        if gpu and sanitize and not MACHINE_REASONS & set(report.reasons()):
            with _stage(report, "sanitizer"), gpu_lock(device):
                report.dynamic_check = _sanitized(problem, kernel, ref_dir, meta, sets, tol,
                                                  timeout, seed)
            if report.dynamic_check["status"] == "errors":
                report.rejections.append({"reason": "sanitizer", "detail": "; ".join(
                    report.dynamic_check["errors"][:3])})
    finally:
        if gpu:  # a CPU reference stays in the cache for the next candidate of this problem
            shutil.rmtree(ref_dir, ignore_errors=True)
        if cand_box is not None:
            cand_box.close()


INNER_STEPS = {"import", "inputs", "expected", "compile", "timing", "build", "trials", "judged",
               "record"}


def _inner_steps(report: BenchReport, child: str, said: dict | None) -> None:
    """The child's own account of its steps (e.g. `candidate.import`), for the record only:
    what a sandboxed child says is data, and nothing is decided on it."""
    steps = (said or {}).get("steps")
    if isinstance(steps, dict):
        report.stages.update({f"{child}.{k}": round(float(v), 2) for k, v in steps.items()
                              if k in INNER_STEPS and isinstance(v, (int, float))})


def _output_dtype(ref_dir: Path, sets: list[dict]) -> str | None:
    """The dtype of the first floating output the reference computed, read here from its data
    (not from what its process says of it)."""
    if not sets:
        return None
    try:
        out = runtime.load(ref_dir / "expected" / f"{sets[0]['label']}-trial0.pt")
    except Exception:
        return None
    import torch
    return next((str(t.dtype) for t in (out if isinstance(out, (tuple, list)) else [out])
                 if isinstance(t, torch.Tensor) and t.is_floating_point()), None)


SEED_FILE = "seed"  # in the reference's folder: the base seed of every draw, kept secret


def _reference(problem: Path, device: str, plan: dict, timeout: float, memory_gb: float,
               env: dict):
    """The reference's outputs, weights and (on a GPU) timings, from its own sandbox: (the
    folder holding them, the wall clock of each timed phase, the run). Its inputs come from a
    base seed chosen here at random (`SEED_FILE`); each draw's own seed is derived from it
    (`runtime.draw_seed`) and sent to the candidate just before that draw. On the CPU the folder is cached by the
    problem's content: the offline search measures many candidates of one problem, and the
    reference's outputs do not change between them."""
    from importlib.metadata import version
    key = hashlib.sha256(b"\0".join([problem.read_bytes(), device.encode(),
                                      json.dumps(plan, sort_keys=True).encode(),
                                      version("torch").encode(),
                                      HARNESS_VERSION.encode()])).hexdigest()
    cached = cache_path("reference", key)
    if device == "cpu" and (cached / "meta.json").is_file() and (cached / SEED_FILE).is_file():
        return cached, {}, None
    box = Sandbox(timeout=timeout, memory_gb=memory_gb, gpu=device == "cuda",
                  env={**env, **SERIAL_INDUCTOR})
    box.cache_compiles_of(problem)
    seed = runtime.secret_seed()
    (box.scratch / "plan.json").write_text(json.dumps({**plan, "seed": seed}))
    running = box.start(["-m", "tools.bench.reference", box.lend(problem, "problem.py"), device,
                         f"{box.inside_scratch}/plan.json"], interactive=True)
    spans = serve_card(running, device)
    run = running.wait()
    meta = _json(box.scratch / "meta.json")
    if meta is None or "error" in meta or not run.ok:
        box.close()
        raise _HarnessError("the problem's reference could not run: " + (
            meta["error"] if meta and "error" in meta else run.reason()))
    # written once the reference's process is gone; the candidate's sandbox never sees it
    (box.scratch / SEED_FILE).write_text(str(seed))
    if device != "cpu":
        return box.scratch, spans, run
    cached.parent.mkdir(parents=True, exist_ok=True)
    for leftover in ("plan.json", "tmp"):
        shutil.rmtree(box.scratch / leftover, ignore_errors=True)
        (box.scratch / leftover).unlink(missing_ok=True)
    try:  # atomic: a worker beside this one sees the whole folder or none
        os.rename(box.scratch, cached)
    except OSError:  # another worker cached it first
        box.close()
    return cached, spans, run


def sanitizer_tools(kernel_source: str) -> list[str]:
    """compute-sanitizer's tools for a candidate: memcheck always; for C++/CUDA of its own also
    racecheck (shared-memory hazards) and initcheck (reads of memory never written), which
    Triton's code generation rules out by construction."""
    return ["memcheck", "racecheck", "initcheck"] if builds_extension(kernel_source) \
        else ["memcheck"]


def _sanitized(problem: Path, kernel: Path, ref_dir: Path, meta: dict, sets: list[dict],
               tol: dict, timeout: float, seed: int) -> dict:
    """The correctness trials of the smallest input set under each of compute-sanitizer's
    tools (`sanitizer_tools`), with PyTorch's caching allocator off (an access past a tensor
    but inside a cached block would pass unseen otherwise); for C++/CUDA of the candidate's
    own also with shared memory filled before each trial (`_shared_fill`)."""
    tool = shutil.which("compute-sanitizer") or next(
        (p for p in ("/usr/local/cuda/bin/compute-sanitizer",) if Path(p).is_file()), None)
    names = sanitizer_tools(kernel.read_text(errors="replace"))
    fill = "initcheck" in names  # code of its own can read shared memory it never wrote
    kind = f"compute-sanitizer {', '.join(names)}" + \
        (" and a shared-memory fill" if fill else "") + " (GPU)"
    if tool is None:
        return {"kind": kind, "status": "not run", "why": "compute-sanitizer not found"}
    smallest = min(sets, key=lambda s: sum(math.prod(x) for x in s.get("shapes") or [[0]]))
    args = (problem, kernel, ref_dir, meta, smallest["label"], timeout, seed)
    # the fill first, on its own: another process's kernels between the fill and the
    # candidate's (the same kernel under a sanitizer, say) would overwrite what it put there
    said = {"shared-fill": _shared_fill(tol, *args)} if fill else {}
    # then one process per sanitizer tool, side by side: each spends most of its time starting
    # torch and CUDA under the sanitizer, and none times anything
    with ThreadPoolExecutor(len(names)) as pool:
        running = {name: pool.submit(_one_sanitizer, tool, name, *args) for name in names}
        said |= {name: job.result() for name, job in running.items()}
    return combined_sanitizers(kind, smallest["label"], said)


def combined_sanitizers(kind: str, input_set: str, said: dict[str, dict]) -> dict:
    """One dynamic check from each tool's run: errors if any tool found one (a tool that did
    not run takes nothing away from another's finding), else not run if any did not run (the
    kernel is then not shown clean), else clean."""
    errors = [f"{name}: {e}" for name, r in said.items() for e in r.get("errors", [])]
    missing = [f"{name}: {r['why']}" for name, r in said.items() if r["status"] == "not run"]
    status = "errors" if any(r["status"] == "errors" for r in said.values()) else \
        "not run" if missing else "clean"
    return {"kind": kind, "status": status, "input_set": input_set,
            "error_count": sum(r.get("error_count", 0) for r in said.values()),
            "errors": errors[:10], "tools": said,
            **({"why": "; ".join(missing)} if missing else {})}


@contextmanager
def _trials_of_one_set(problem: Path, kernel: Path, ref_dir: Path, meta: dict, label: str,
                       timeout: float, seed: int, env: dict, prefix: list[str] | None = None,
                       fill_shared: bool = False):
    """A candidate process running only the correctness trials of one input set (no ghost run,
    no timing), started under `prefix` (a sanitizer), sent each trial's seed; yields
    (sandbox, running process)."""
    box = Sandbox(timeout=timeout, gpu=True, env=env)
    box.cache_extensions_of(kernel)
    try:
        shutil.copyfile(problem, box.scratch / "problem.py")
        plan = {"sets": [label], "draws": judge.TRIAL_DRAWS, "timing": False,
                "dtype": meta["dtype"], "fill_shared": fill_shared}
        (box.scratch / "plan.json").write_text(json.dumps(plan))
        inside = box.inside_scratch
        running = box.start(
            ["-m", "tools.bench.candidate", f"{inside}/problem.py", box.lend(kernel, "kernel.py"),
             box.lend(ref_dir / "init.pt"), box.lend(ref_dir / "state.pt"), "cuda",
             f"{inside}/plan.json"], interactive=True, prefix=prefix)
        for name in judge.TRIAL_DRAWS:  # each trial's seed, as the candidate asks for it
            if running.read_line(f"@@seed {label} {name}") is None:
                break
            running.send(str(runtime.draw_seed(seed, label, name)))
        yield box, running
    finally:
        box.close()


def _one_sanitizer(tool: str, name: str, problem: Path, kernel: Path, ref_dir: Path, meta: dict,
                   label: str, timeout: float, seed: int) -> dict:
    with _trials_of_one_set(problem, kernel, ref_dir, meta, label, timeout, seed,
                            {"PYTORCH_NO_CUDA_MEMORY_CACHING": "1"},
                            prefix=[tool, "--tool", name, "--error-exitcode", "86",
                                    "--print-limit", "10", "--target-processes", "all"]
                            ) as (_, running):
        while running.read_line("@@outputs") is not None:
            running.send("stop")
        run = running.wait()
    return sanitizer_report(run.stdout + run.stderr, run.returncode, run.reason())


def _shared_fill(tol: dict, problem: Path, kernel: Path, ref_dir: Path, meta: dict, label: str,
                 timeout: float, seed: int) -> dict:
    """The trials again with every SM's shared memory filled before each one
    (`runtime.SharedMemoryFill`: zeros, NaN bytes, 0x7F bytes in turn). Right with zeros and
    wrong with another fill: the output depends on shared memory the kernel never wrote. Wrong
    with zeros too: a plain wrong kernel, which the fill cannot tell apart. Reported in a
    sanitizer's form."""
    wrong: dict[str, tuple[int, str]] = {}
    with _trials_of_one_set(problem, kernel, ref_dir, meta, label, timeout, seed, {},
                            fill_shared=True) as (box, running):
        while running.read_line("@@outputs") is not None:
            for name in judge.TRIAL_DRAWS:
                try:
                    judge.judge_draw(f"{label}-{name}", box.scratch / "outputs",
                                     ref_dir / "expected", tol, "cuda")
                except judge.Rejected as r:
                    wrong[name] = (runtime.SharedMemoryFill.word_for(name), r.detail)
            running.send("stop")
        run = running.wait()
        said = _json(box.scratch / "report.json") or {}
    fill_error = said.get("shared_fill_error") if isinstance(said, dict) else None
    return shared_fill_verdict(label, wrong, None if run.ok else run.reason(), fill_error)


def shared_fill_verdict(label: str, wrong: dict[str, tuple[int, str]], ended: str | None,
                        fill_error: str | None) -> dict:
    """The fill's finding from the trials that came out wrong ({trial: (fill word, detail)}),
    how the process ended (None: well) and whether the fill kernel could be built."""
    if fill_error:
        return {"status": "not run", "why": f"the fill kernel: {fill_error}"}
    if ended:
        return {"status": "not run", "why": ended}
    if any(word == 0 for word, _ in wrong.values()):
        return {"status": "not run", "why": "the output is wrong with shared memory zeroed "
                "too: the fill cannot tell a read of unwritten shared memory from a wrong "
                "kernel"}
    errors = [f"input set {label}, {name}: with shared memory filled with 0x{word:08X} before "
              f"the kernel ran (right with it zeroed): {detail}: the output depends on shared "
              "memory the kernel never wrote (compute-sanitizer's initcheck watches global "
              "memory only)" for name, (word, detail) in wrong.items()]
    return {"status": "errors" if errors else "clean", "error_count": len(errors),
            "errors": errors[:3]}


_SANITIZER_ERROR = re.compile(r"^(Invalid|Error|Uninitialized|Race|Barrier|Program hit)", re.I)
_SANITIZER_DETAIL = re.compile(r"^(at |by thread|Address|and )")


def sanitizer_report(text: str, returncode: int | None, why: str) -> dict:
    """One compute-sanitizer run read: its summary count, and each error with the detail lines
    under it (the kernel and source line where built with line information, the thread and
    block, the address), one string per error."""
    summary = re.search(r"ERROR SUMMARY: (\d+) error", text) or \
        re.search(r"RACECHECK SUMMARY: (\d+) hazard", text)
    if summary is None:
        return {"status": "not run", "why": "no sanitizer summary: " + why}
    errors: list[list[str]] = []
    for line in text.splitlines():
        if not line.startswith("========="):
            continue
        body = line[len("========="):]
        if _SANITIZER_ERROR.match(body.strip()) and not body.startswith("  ") and \
                "SUMMARY" not in body:
            errors.append([body.strip()])
        elif errors and body.startswith("  ") and _SANITIZER_DETAIL.match(body.strip()) \
                and len(errors[-1]) < 4:
            errors[-1].append(body.strip())
    count = int(summary.group(1))
    return {"status": "errors" if count or returncode == 86 else "clean",
            "error_count": count, "errors": [" | ".join(e) for e in errors[:10]]}


def _json(path: Path):
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def serve_card(running, device: str) -> dict[str, float]:
    """Answer a trusted child's requests for the card until it stops asking (or ends): an
    untimed window ("@@use-card" ... "@@card-done", `runtime.card_window`) holds it shared for
    the window only, not while the child computes on the CPU (imports, compiles, Inductor
    writing code); a timed phase ("@@ready-to-time LABEL" ... "@@timed LABEL") takes it alone
    until the child ends, its CUDA context torn down (the reference compiles every set's
    baseline and the screen every candidate before their first phase, so what follows is
    timing, and a run beside it waits for the card once per child, not once per phase).
    Returns each timed phase's wall clock in ms as watched from here."""
    spans: dict[str, float] = {}
    with _ChildHold(device) as hold:
        while (line := running.read_line("@@")) is not None:
            if line == "@@use-card":
                with gpu_lock(device):  # passes through once the card is held alone
                    running.send("go")
                    if running.read_line("@@card-done") is None:
                        break
            elif line.startswith("@@ready-to-time "):
                label = line.split(" ", 1)[1]
                if (span := _one_phase(running, label, hold)) is None:
                    break
                spans[label] = span
    return spans


def _one_phase(running, label: str, hold: _ChildHold) -> float | None:
    """One timed phase a child asked for: the card taken alone into `hold` (a no-op once
    held), "go", and the phase's wall clock in ms as watched from here; None if the child
    ended before saying it was done."""
    hold.take("alone")
    started = time.perf_counter()
    running.send("go")
    if running.read_line(f"@@timed {label}") is None:
        return None
    return (time.perf_counter() - started) * 1000


@dataclass
class _Answered:
    """What the harness judged and timed while answering a candidate's process."""
    rows: list = field(default_factory=list)  # each set's comparison, in the plan's order
    spans: dict = field(default_factory=dict)  # each timed phase's wall clock (ms), watched
    after: bool = False  # the after-timing draw was judged
    timing: bool = False  # the plan asked for timing (and so for the after-timing draw)

    def unjudged(self, sets: list[dict]) -> str | None:
        """The first comparison the plan asked for and the harness never made, if any."""
        judged = {row["input_set"] for row in self.rows}
        missing = [s["label"] for s in sets if s["label"] not in judged]
        if missing:
            return f"input set {missing[0]}"
        if self.timing and not self.after and "default" in {s["label"] for s in sets}:
            return "the after-timing draw"
        return None


def _judge_outputs(running, sets: list[dict], outputs: Path, expected: Path, tol: dict,
                   report: BenchReport, hold: _ChildHold, seed: int,
                   timing: bool) -> _Answered:
    """Answer the candidate: lend it the card when it claims it, send each draw's seed as it
    is asked for, judge each set's outputs as they come (stop at the first rejection), time
    its phases, judge the after-timing draw. The comparisons run on the card while the candidate waits for the
    verdict (under its hold), so they never overlap its timed phases."""
    try:
        return _answer_candidate(running, sets, outputs, expected, tol, report, hold, seed,
                                 timing)
    finally:
        if hold.device == "cuda":  # the memory the comparisons took goes back to the card
            import torch
            torch.cuda.empty_cache()


def _protocol(order: list[str], names: list[str], timing: bool) -> list[tuple[str, str]]:
    """The lines `tools.bench.candidate` says, in its order, after its optional claim of the
    card: each set's draws and its outputs; then, timed, each set's timing draws and phase,
    and the after-timing draw."""
    script = []
    for label in order:
        script += [("@@seed", f"{label} {name}") for name in names] + [("@@outputs", label)]
    if timing:
        for label in order:
            script += [("@@seed", f"{label} {name}") for name in runtime.TIMING_NAMES]
            script.append(("@@ready-to-time", label))
        if "default" in order:
            script += [("@@seed", "default after"), ("@@outputs", "after")]
    return script


def _answer_candidate(running, sets, outputs, expected, tol, report, hold: _ChildHold,
                      seed: int, timing: bool) -> _Answered:
    """Follow the candidate through `_protocol`: a line out of that order (its own code
    speaking for the harness's) ends the run as `protocol`. Each draw's seed is sent as it is
    asked for, once."""
    answered, device = _Answered(timing=timing), hold.device
    order = [s["label"] for s in sets]
    shapes = {s["label"]: s.get("shapes") for s in sets}
    script, step = _protocol(order, runtime.DRAW_NAMES, timing), 0
    while (line := running.read_line("@@")) is not None:
        word, _, rest = line.partition(" ")
        if word == "@@use-card" and step == 0:
            hold.take("shared")
            running.send("go")
            continue
        if step >= len(script) or (word, rest) != script[step]:
            report.rejections.append({"reason": "protocol", "detail": "the candidate's process "
                                      f"broke the harness's protocol: {line[:80]!r} where the "
                                      "harness expected " + (" ".join(script[step])
                                                             if step < len(script) else
                                                             "nothing more")})
            running.send("stop")
            break
        step += 1
        if word == "@@seed":
            label, name = rest.split(" ")
            running.send(str(runtime.draw_seed(seed, label, name)))
        elif word == "@@outputs" and rest == "after":
            try:
                judge.judge_draw("default-after", outputs, expected, tol, device)
            except judge.Rejected as r:
                report.rejections.append({"reason": r.reason, "detail": "after timing, on "
                                          f"inputs never seen before: {r.detail}"})
            answered.after = True
            running.send("next")
        elif word == "@@outputs":
            try:
                answered.rows.append(judge.judge_set(rest, outputs, expected, tol,
                                                     shapes[rest], device))
                running.send("next")
            except judge.Rejected as r:
                report.rejections.append({"reason": r.reason, "detail": r.detail})
                running.send("stop")
        elif word == "@@ready-to-time":
            if (span := _one_phase(running, rest, hold)) is None:
                break
            answered.spans[rest] = span
    return answered


# what `tools.bench.candidate` writes into report.json, by type: anything else did not come
# from it (and must not crash the judge)
REPORT_FIELDS = {"input_error": str, "fingerprints": dict, "inputs_modified": list,
                 "tensor_subclass": list, "bounds": dict, "crash": str, "out_of_memory": bool,
                 "traceback": str, "parameters": dict, "steps": dict, "shared_fill_error": str}


def _malformed(cand: dict) -> str | None:
    """The first field of a candidate's report that is not as the harness's code writes it."""
    for name, kind in REPORT_FIELDS.items():
        if name in cand and not isinstance(cand[name], kind):
            return name
    bounds = cand.get("bounds")
    if bounds is not None and not (isinstance(bounds.get("violations"), list) and
                                   isinstance(bounds.get("accesses"), int)):
        return "bounds"
    if not isinstance((cand.get("parameters") or {}).get("from_reference", []), list):
        return "parameters"
    return None


def _judge_report(cand: dict, run, meta: dict, report: BenchReport) -> None:
    """What the candidate's process said about itself, and how it ended. A failure of the
    problem's get_inputs(), or inputs unlike the reference's, that it reports never replaces a
    verdict already made (either could be invented to turn a rejection into the problem's
    error)."""
    if cand.get("input_error") and not report.rejections:
        raise _HarnessError(f"the problem's get_inputs() failed: {cand['input_error']}")
    differ = judge.same_inputs(meta.get("fingerprints", {}), cand.get("fingerprints", {}))
    if differ and report.rejections:  # its report can be rewritten: the rejection stands
        report.notes.append("the candidate's process reports inputs other than the "
                            f"reference's ({', '.join(differ[:3])})")
    elif differ:
        raise _HarnessError(f"the problem drew different inputs in two processes under the "
                            f"same seed ({', '.join(differ[:3])}): draw every random input "
                            "from torch's seeded generator")
    for key, reason, what in (("inputs_modified", "inputs-modified", "the candidate changed "
                               "its inputs"), ("tensor_subclass", "tensor-subclass", "the "
                               "output is a Tensor subclass, not a plain Tensor")):
        if cand.get(key):
            report.rejections.append({"reason": reason, "detail": f"{what} ({cand[key][0]})"})
    if cand.get("bounds") is not None:
        # the check runs inside the candidate's process, whose code can switch it off: what it
        # found rejects a kernel, but its silence shows nothing safe
        bounds = cand["bounds"]
        report.dynamic_check = {"kind": "bounds-checked interpreter runs (CPU)",
                                "status": "violations" if bounds["violations"] else "unconfirmed",
                                "accesses": bounds["accesses"],
                                "violations": bounds["violations"],
                                **({} if bounds["violations"] else {"why": "the bounds check "
                                   "ran in the candidate's own process, which can turn it off: "
                                   "no violation reported is no evidence of safety"})}
        if bounds["violations"]:
            report.rejections.append({"reason": "out-of-bounds", "detail": "; ".join(
                bounds["violations"][:3])})
    if cand.get("crash"):
        report.rejections.append({"reason": "memory" if cand.get("out_of_memory") else "crash",
                                  "detail": cand["crash"]})
    elif not run.ok:
        report.rejections.append({"reason": run.killed or "crash", "detail": run.reason()})
    if cand.get("parameters", {}).get("from_reference"):
        report.notes.append("the candidate was given the reference's parameters and buffers "
                            "by name: " + ", ".join(cand["parameters"]["from_reference"][:8]))


def _judge_timing(meta: dict, ref_dir: Path, cand_dir: Path, ref_spans: dict,
                  cand_spans: dict, sets: list[dict], repeats: int,
                  report: BenchReport) -> None:
    from tools.roofline import place
    ref_timing, cand_timing = _json(ref_dir / "timing.json"), _json(cand_dir / "timing.json")
    if not ref_timing or not cand_timing:
        report.rejections.append({"reason": "crash", "detail": "no timing came back"})
        return
    rows = []
    try:
        for s in sets:
            label = s["label"]
            if label not in cand_timing or label not in cand_spans or label not in ref_spans:
                raise judge.Rejected("crash", f"input set {label}: no timing came back")
            rows.append(judge.judge_timing(label, cand_timing[label], ref_timing[label],
                                           cand_spans[label], ref_spans[label], s.get("shapes"),
                                           s.get("compile_error")))
    except judge.Rejected as r:
        report.rejections.append({"reason": r.reason, "detail": r.detail})
        return
    report.timing = {"method": judge.TIMING_METHOD, "repeats": repeats, "sets": rows}
    peak = report.device.get("ceilings")
    if meta.get("cost") and peak:
        report.roofline = place(meta["cost"], rows[0]["first"]["kernel"]["median_ms"], peak)


_cards: dict[str, dict] = {}


def card_info(device: str) -> dict:
    """The GPU's name, versions and measured ceilings, from a sandboxed child that runs only
    our code (so no problem or candidate can misstate them); once per process and GPU."""
    from tools.roofline import hand_down, measured_already, remember
    key = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    if key in _cards:
        return _cards[key]
    # reading its name and known ceilings shares the card (the child makes and tears down a
    # CUDA context); measuring them (copies and matmuls timed) has it alone, and hands down
    # what another run measured while this one waited
    known = measured_already((key or "0").split(",")[0].strip())
    with gpu_lock("cuda", "shared" if known else "alone"):
        box = Sandbox(timeout=600, gpu=True, env=hand_down())
        try:
            run = box.run(["-m", "tools.bench.card"])
            info = json.loads(run.stdout.strip().splitlines()[-1]) if run.ok else None
        except (ValueError, IndexError):
            info = None
        finally:
            box.close()
    if info is None:
        raise _HarnessError("could not read the GPU's properties: " + run.reason())
    remember(info["ceilings"])
    _cards[key] = {**info["device"], "ceilings": info["ceilings"]}
    return _cards[key]


def _cpu_info() -> dict:
    import platform
    return {"device": "cpu", "torch": _installed("torch"), "triton": _installed("triton"),
            "name": platform.processor() or platform.machine(),
            "note": "CPU: Triton interpreter, correctness only, no timing"}
