"""Prove a candidate's Triton kernels in bounds, race-free and covering their output, with Z3.

    report = verify("problem.py", "kernel.py")
    report.status        # proved | violated | unknown | unsupported | error
    report.findings      # one per obligation, with a counterexample when violated

The candidate's `forward` runs in its own sandbox with its launches recorded, as data (no
kernel executes, no GPU is needed: `record`). The analysis runs where the candidate never ran
(a job of the sandboxed analysis zygote, `worker`): the kernels are rebuilt from the source
under the rules of `kernel_source`, each launch compiled to TTIR and executed symbolically
(`symbolic`), and Z3 asked. Results are cached by the content of both files, by this process
only, so re-verifying an unchanged kernel is free and no candidate can plant a verdict.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tools.cache import cache_path, write_atomic
from tools.bench.static import builds_extension
from tools.sandbox import Sandbox, SandboxUnavailable, zygote

if TYPE_CHECKING:
    from tools.bench import BenchReport

VERIFIER_VERSION = "12"  # bump when the analysis changes: cached reports are keyed on it
STATUS_ORDER = ["error", "violated", "unsupported", "unknown", "proved"]


@dataclass
class VerifyReport:
    status: str
    findings: list[dict] = field(default_factory=list)
    launches: list[dict] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0  # wall time, the sandboxed child's start included
    cached: bool = False
    analysis_seconds: float | None = None  # tracing, compiling and solving, in the child

    @property
    def exit_code(self) -> int:
        return {"proved": 0, "violated": 1, "unknown": 1}.get(self.status, 2)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.findings:
            out[f["status"]] = out.get(f["status"], 0) + 1
        return out

    def feedback(self) -> str:
        """What a coder needs to fix: every violation with its counterexample, every gap."""
        lines = [f"{f['kernel']}: {f['obligation']} of {f['access']} {f['status']}: {f['detail']}"
                 for f in self.findings if f["status"] != "proved"]
        return "\n".join(lines + self.unsupported + ([self.error] if self.error else []))

    def to_dict(self) -> dict:
        return {"status": self.status, "counts": self.counts(), "seconds": round(self.seconds, 3),
                "analysis_seconds": self.analysis_seconds,
                "cached": self.cached, "error": self.error, "unsupported": self.unsupported,
                "launches": self.launches, "findings": self.findings}


def _overall(findings: list[dict], unsupported: list[str]) -> str:
    statuses = {f["status"] for f in findings}
    if "violated" in statuses:
        return "violated"
    if unsupported or "unsupported" in statuses:
        return "unsupported"
    if "unknown" in statuses:
        return "unknown"
    return "proved" if findings else "unsupported"


def _launches_digest(launches: dict | None) -> bytes:
    """What a caller's launch record says, for the cache key: a verdict on the launches a GPU
    ran (their grids sized to the card) is not one on the CPU's own recording. Addresses and
    paths differ from run to run; which arguments share a tensor does not."""
    if launches is None:
        return b"recorded here"
    seen: dict = {}

    def plain(value):
        if isinstance(value, dict):
            return {k: (seen.setdefault(v, len(seen)) if k == "data_ptr" else plain(v))
                    for k, v in value.items() if k not in ("file", "kernel_file")}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value
    return json.dumps(plain(launches), sort_keys=True, default=str).encode()


def _cache_key(problem: Path, kernel: Path, coverage: bool, launches: dict | None) -> str:
    import triton
    h = hashlib.sha256()
    for part in (problem.read_bytes(), kernel.read_bytes(), str(coverage).encode(),
                 VERIFIER_VERSION.encode(), triton.__version__.encode(),
                 _launches_digest(launches)):
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()


def verify(problem: str | Path, kernel: str | Path, *, timeout: float = 300,
           coverage: bool = True, use_cache: bool = True,
           launches: dict | None = None) -> VerifyReport:
    """`launches`: the candidate's launches already recorded by the harness's candidate
    process (`bench(..., record_launches=True)`), saving this a recording process of its
    own; they are data from the candidate's process either way."""
    problem, kernel = Path(problem).resolve(), Path(kernel).resolve()
    for path in (problem, kernel):
        if not path.is_file():
            return VerifyReport("error", error=f"{path}: no such file")
    source = kernel.read_text(errors="replace")
    if builds_extension(source) and "triton.jit" not in source:
        return VerifyReport("unsupported", unsupported=[
            "C++/CUDA extension: Z3 reads Triton kernels only; compute-sanitizer (memcheck, "
            "racecheck, initcheck) watches this one's accesses instead"])
    given = launches if isinstance(launches, dict) and "sets" in launches else None
    key = _cache_key(problem, kernel, coverage, given)
    cached = cache_path("verify", f"{key}.json")
    if use_cache and cached.is_file():
        data = json.loads(cached.read_text())
        return VerifyReport(data["status"], data["findings"], data["launches"],
                            data["unsupported"], None, data["seconds"], cached=True,
                            analysis_seconds=data.get("analysis_seconds"))
    start = time.perf_counter()
    try:
        launches = given or record_launches(problem, kernel, timeout)
        if "error" in launches:
            return VerifyReport("error", error=launches["error"],
                                seconds=time.perf_counter() - start)
        data = _analyse(kernel, launches, coverage, timeout)
    except (SandboxUnavailable, RuntimeError) as err:
        return VerifyReport("error", error=str(err), seconds=time.perf_counter() - start)
    seconds = time.perf_counter() - start
    if "error" in data:
        return VerifyReport("error", error=data["error"], seconds=seconds)
    report = VerifyReport(_overall(data["findings"], data["unsupported"]), data["findings"],
                          data["launches"], data["unsupported"], seconds=seconds,
                          analysis_seconds=round(data["analysis_s"], 4))
    if use_cache:  # only this side writes the cache: no sandbox can see it
        write_atomic(cached, json.dumps(report.to_dict()))
    return report


def verify_on_card(problem: str | Path, kernel: str | Path, *, researchers_problem: bool = False,
                   coverage: bool = True,
                   use_cache: bool = True) -> tuple[VerifyReport, BenchReport]:
    """Proved over the launches the GPU runs, recorded by the harness's candidate process on
    the card in a short run untimed against the baselines (`verify_recorded`); the harness's
    report comes back beside it (status `error` where the files or the machine kept it from
    running at all, which no other kernel mends)."""
    from tools.bench import bench
    recorded = bench(problem, kernel, device="cuda", repeats=5, baselines=False,
                     record_launches=True, researchers_problem=researchers_problem)
    return verify_recorded(problem, kernel, recorded, "cuda", coverage=coverage,
                           use_cache=use_cache), recorded


def verify_recorded(problem: str | Path, kernel: str | Path, run: BenchReport, device: str,
                    *, coverage: bool = True, use_cache: bool = True) -> VerifyReport:
    """Proved over the launches a harness run on `device` recorded (`bench(...,
    record_launches=True)`), in the problem's dtype: on a GPU a persistent kernel's grid is
    one program per SM, a few on the CPU. A GPU run that recorded nothing proves nothing:
    `unknown`, never a proof of a CPU recording. On the CPU, where a run recorded nothing (a
    verdict from the harness's cache carries no record), the verifier records its own."""
    if run.launch_record is None and device == "cuda":
        return VerifyReport("unknown", error="its launches on the card could not be recorded "
                            f"({run.status}): {run.feedback()}")
    return verify(problem, kernel, coverage=coverage, use_cache=use_cache,
                  launches=run.launch_record)


def record_launches(problem: Path, kernel: Path, timeout: float = 300) -> dict:
    """The candidate's launches, recorded in its own fresh sandbox (it runs `forward`): what
    `verify` reads when the harness has not recorded them already."""
    box = Sandbox(timeout=timeout, memory_gb=8)
    box.cache_extensions_of(kernel)  # a Triton file that also builds C++ keeps its build
    try:
        shutil.copyfile(problem, box.scratch / "problem.py")  # the child deletes its copy
        run = box.run(["-m", "tools.verify.record", f"{box.inside_scratch}/problem.py",
                       box.lend(kernel, "kernel.py")])
        try:
            data = json.loads((box.scratch / "launches.json").read_text())
        except (OSError, ValueError):
            return {"error": "the candidate's launches could not be recorded: " + run.reason()}
        if not isinstance(data, dict) or not ("error" in data or "sets" in data):
            return {"error": "the candidate's launch record is not in the expected form"}
        return data
    finally:
        box.close()


def _analyse(kernel: Path, launches: dict, coverage: bool, timeout: float) -> dict:
    """The analysis, in a job of the sandboxed zygote: it runs only our code on the records,
    with the kernels rebuilt from a copy of the source."""
    args = ["{job}/kernel.py", "{job}/launches.json", "{job}/report.json"]
    if not coverage:
        args.append("--no-coverage")
    zyg = zygote()
    result, folder = zyg.run("tools.verify.worker", args, {
        "kernel.py": kernel.read_bytes(), "launches.json": json.dumps(launches).encode()},
        timeout=timeout)
    try:
        report = folder / "report.json"
        if not report.is_file():
            return {"error": "verifier child " + result.reason()}
        return json.loads(report.read_text())
    finally:
        zyg.finish(folder)
