"""Measure a candidate against its problem: correctness you can trust, then timing on a GPU.

    report = bench("problem.py", "kernel.py", device="auto")
    report.status      # correct | rejected | error
    report.rejections  # every reason, named (see static.POLICY and the worker's checks)

Static checks run here; everything that executes the candidate runs in the sandbox (a child
process with a time and memory limit, no credentials, no network where possible). Without a GPU
the kernels run in Triton's interpreter: correctness only, and no speedup is claimed.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tools.sandbox import run_python

from .static import check_source, rejections


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

    @property
    def exit_code(self) -> int:
        return {"correct": 0, "rejected": 1}.get(self.status, 2)

    def reasons(self) -> list[str]:
        return [r["reason"] for r in self.rejections]

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

    def to_dict(self) -> dict:
        return {"status": self.status, "device": self.device, "tolerance": self.tolerance,
                "correctness": self.correctness, "timing": self.timing,
                "speedups": self.speedups(), "rejections": self.rejections,
                "static": self.static, "notes": self.notes, "error": self.error,
                "roofline": self.roofline,
                "seconds": round(self.seconds, 2)}


def resolve_device(device: str) -> str:
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, not {device!r}")
    if device != "auto":
        return device
    import torch
    return "cuda" if torch.cuda.is_available() else "cpu"


@contextmanager
def gpu_lock(device: str):
    """Hold this GPU for one measurement: two workers (or a worker and `autodocket bench`) on
    one card would time each other's kernels. A lock file per visible GPU; yields the seconds
    spent waiting for it. The CPU path needs none."""
    if device != "cuda":
        yield 0.0
        return
    gpu = (os.environ.get("CUDA_VISIBLE_DEVICES") or "0").split(",")[0].strip()
    path = Path(tempfile.gettempdir()) / f"autodocket-gpu-{gpu}.lock"
    start = time.perf_counter()
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield time.perf_counter() - start
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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


def bench(problem: str | Path, kernel: str | Path, *, device: str = "auto",
          timeout: float | None = None, repeats: int = 100, memory_gb: float = 16,
          baselines: bool = True) -> BenchReport:
    """`baselines=False` times the kernel alone (the offline search compares configs)."""
    problem, kernel = Path(problem).resolve(), Path(kernel).resolve()
    for path in (problem, kernel):
        if not path.is_file():
            return BenchReport("error", error=f"{path}: no such file")
    device = resolve_device(device)
    if device == "cpu" and (why := interpreter_unusable()):
        return BenchReport("error", error=why)
    fp32 = "bfloat16" not in problem.read_text() and "float16" not in problem.read_text()
    static = check_source(kernel.read_text(errors="replace"), problem_is_fp32=fp32)
    report = BenchReport("correct", static=[f.to_dict() for f in static])
    report.rejections += [{"reason": f.name, "detail": f"line {f.line}: {f.text}"}
                          for f in rejections(static)]
    scratch = Path(tempfile.mkdtemp(prefix="autodocket-bench-"))
    out = scratch / "report.json"
    from tools.roofline import hand_down, remember
    env = {"TRITON_INTERPRET": "1"} if device == "cpu" else hand_down()
    start = time.perf_counter()
    try:
        with gpu_lock(device) as waited:
            result = run_python(["-m", "tools.bench.worker", str(problem), str(kernel), str(out),
                                 device, str(repeats)] + ([] if baselines else ["--no-baselines"]),
                                timeout=timeout or (900 if device == "cuda" else 300),
                                memory_gb=memory_gb, gpu=device == "cuda", env=env,
                                scratch=scratch)
        data = json.loads(out.read_text()) if out.is_file() else None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report.seconds = time.perf_counter() - start
    if waited > 1:
        report.notes.append(f"waited {waited:.0f} s for the GPU: another measurement held it")
    if not result.network_isolated:
        report.notes.append("no network namespace on this machine: the candidate had network")
    if data is None:
        report.rejections.append({"reason": "crash" if result.killed is None else result.killed,
                                  "detail": result.reason()})
    elif "error" in data:
        if data.get("bad_input"):
            return BenchReport("error", error=data["error"], seconds=report.seconds)
        report.rejections.append({"reason": "crash", "detail": data["error"]})
    else:
        report.device, report.tolerance = data["device"], data.get("tolerance")
        report.correctness, report.timing = data["correctness"], data["timing"]
        report.roofline = data.get("roofline")
        if data.get("roofline_error"):
            report.notes.append(data["roofline_error"])
        if data.get("ceilings"):
            remember(data["ceilings"])
        report.rejections += data["rejections"]
        if data.get("note"):
            report.notes.append(data["note"])
        if device == "cpu":
            report.notes.append("correctness only, no timing: no GPU here")
    if report.rejections:
        report.status = "rejected"
    return report
