"""Profile a candidate: where it sits on the roofline, what the compiler made of each Triton
kernel, what Nsight Compute saw, and a rule-based reading of it all (tools/profile/diagnose).

    report = profile("problem.py", "kernel.py", device="auto")
    report.diagnosis     # ["memory-bound: 2.71 TB/s, 90% of ...", "register spills in ..."]
    report.feedback()    # the lines the coder gets about its last attempt

What cannot be gathered is said in `missing`: without a GPU there is no timing and no ncu, and
the compiler metadata is for sm_90 (the GPU machine's H100), compiled here on the CPU.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tools.sandbox import Sandbox, SandboxUnavailable

from . import ncu
from .diagnose import diagnose, distinct_kernels


@dataclass
class ProfileReport:
    status: str  # profiled | error
    device: dict = field(default_factory=dict)
    roofline: dict | None = None
    kernels: list[dict] = field(default_factory=list)
    ncu: list[dict] | None = None
    missing: list[str] = field(default_factory=list)  # what could not be measured, and why
    notes: list[str] = field(default_factory=list)  # how what was measured was measured
    diagnosis: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    def feedback(self) -> str:
        if self.status != "profiled":
            return f"no profile: {self.error}"
        meta = "; ".join(
            f"{k['kernel']}: {k['metadata'].get('registers', '?')} registers, "
            f"{k['metadata'].get('local_bytes', '?')} B spilled, "
            f"{k['metadata'].get('shared_bytes', '?')} B shared"
            + (f", grid {k['programs']} programs" if k["programs"] else "")
            for k in distinct_kernels(self.kernels))
        lines = [f"profile ({self.device.get('name', '?')}): {meta}"] + self.diagnosis
        return "\n".join(lines + [f"not profiled: {m}" for m in self.missing] +
                         [f"note: {n}" for n in self.notes])


def profile(problem: str | Path, kernel: str | Path, *, device: str = "auto",
            use_ncu: bool = True, timeout: float = 600,
            save_ncu_csv: str | Path | None = None,
            roofline: dict | None = None) -> ProfileReport:
    """`save_ncu_csv`: also keep the raw ncu CSV there (test fixtures are captured so).
    `roofline`: the kernel's position as the harness just measured it; on a GPU with ncu the
    profile then takes one sandboxed process (the profiled launch and the compiler metadata
    under ncu) instead of two, and does not time the kernel again."""
    from tools.bench import resolve_device
    problem, kernel = Path(problem).resolve(), Path(kernel).resolve()
    for path in (problem, kernel):
        if not path.is_file():
            return ProfileReport("error", error=f"{path}: no such file")
    device = resolve_device(device)
    scratch = Path(tempfile.mkdtemp(prefix="autodocket-profile-"))
    start = time.perf_counter()
    try:
        report = _profile(problem, kernel, device, use_ncu, timeout, scratch, roofline)
    except SandboxUnavailable as err:
        report = ProfileReport("error", error=str(err))
    try:
        if save_ncu_csv and (scratch / "ncu.csv").is_file():
            shutil.copyfile(scratch / "ncu.csv", save_ncu_csv)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report.seconds = round(time.perf_counter() - start, 2)
    return report


def _profile(problem: Path, kernel: Path, device: str, use_ncu: bool, timeout: float,
             scratch: Path, roofline: dict | None) -> ProfileReport:
    from tools.bench import gpu_lock, host_lock
    from tools.roofline import hand_down, remember
    out = scratch / "profile.json"
    with_ncu = device == "cuda" and use_ncu and ncu.ncu_path() is not None
    one_process = with_ncu and roofline is not None
    # the card alone: the profile times the kernel and reads its counters; and one Nsight
    # Compute session at a time on this host, whichever GPU: two at once (two workers, one per
    # GPU) left one profiled child hanging until its time limit on an H200 pair
    with gpu_lock(device, "alone"), (host_lock("ncu") if with_ncu else nullcontext()):
        run = _sandboxed(problem, kernel, "profile.json", device, timeout, scratch, hand_down(),
                         "under-ncu" if one_process else None)
        if not out.is_file():
            return ProfileReport("error", error="profile child " + run.reason())
        data = json.loads(out.read_text())
        if "error" in data:
            return ProfileReport("error", error=data["error"])
        report = ProfileReport("profiled", data["device"], roofline or data["roofline"],
                               data["kernels"], missing=data.get("missing", []))
        if data.get("ceilings"):
            remember(data["ceilings"])
        if with_ncu:
            if not one_process:
                run = _sandboxed(problem, kernel, "launch.json", "cuda", timeout, scratch, {},
                                 "launch-only")
            report.ncu, failed = _read_ncu(scratch, run)
            if failed:
                report.missing.append(failed)
            else:  # ncu talks to the process it profiles over loopback
                report.notes.append("the child Nsight Compute profiled kept the network "
                                    "namespace: ncu reaches its target over loopback")
    if device != "cuda":
        report.missing.append("no GPU here: no timing, no roofline position, no Nsight "
                              "Compute; compiler metadata is for sm_90, compiled on the CPU")
    elif not use_ncu:
        report.missing.append("Nsight Compute not asked for (--no-ncu)")
    elif not ncu.ncu_path():
        report.missing.append("ncu not found on PATH: no hardware counters")
    report.missing += [f"{k['kernel']}: {k['metadata']['missing']}"
                       for k in distinct_kernels(report.kernels) if "missing" in k["metadata"]]
    report.diagnosis = diagnose(report.roofline, report.kernels, report.ncu,
                                report.device.get("sm_count"))
    return report


def _read_ncu(scratch: Path, run) -> tuple[list[dict] | None, str | None]:
    """The rows of the report ncu left in the scratch folder, or why there are none."""
    report_file = scratch / "ncu.ncu-rep"
    if not report_file.is_file():
        return None, "ncu failed: " + (run.stderr or run.stdout or run.reason())[-400:]
    csv_text = subprocess.run(ncu.export_csv(str(report_file)), capture_output=True, text=True,
                              timeout=120).stdout
    try:
        rows = ncu.parse_csv(csv_text)
    except ValueError as err:
        return None, f"ncu report unreadable: {err}"
    (scratch / "ncu.csv").write_text(csv_text)
    return rows, None


def _sandboxed(problem: Path, kernel: Path, out: str, device: str, timeout: float,
               scratch: Path, env: dict, ncu_mode: str | None = None):
    """The profile child in a sandbox whose scratch is `scratch` (its files come back there).
    `ncu_mode` ("launch-only" or "under-ncu", tools.profile.worker's modes): the child runs
    under ncu (one profiled launch of each kernel in the NVTX range, report `ncu.ncu-rep`) and
    keeps the network namespace: ncu reaches its target over loopback."""
    box = Sandbox(timeout=timeout, gpu=device == "cuda", env=env, scratch=scratch,
                  network=ncu_mode is not None)
    box.cache_extensions_of(kernel)
    inside = box.inside_scratch
    args = ["-m", "tools.profile.worker", box.lend(problem, "problem.py"),
            box.lend(kernel, "kernel.py"), f"{inside}/{out}", device]
    if ncu_mode:
        return box.run(args + [f"--{ncu_mode}"], prefix=ncu.command(f"{inside}/ncu"))
    return box.run(args)


def from_ncu_report(csv_path: str | Path) -> ProfileReport:
    """A researcher's own `ncu --csv --page raw` report, read and diagnosed (no run)."""
    text = Path(csv_path).read_text(errors="replace")
    rows = ncu.parse_csv(text)
    return ProfileReport("profiled", {"name": "from an Nsight Compute report"}, ncu=rows,
                         missing=["no problem or kernel given: no roofline position, no "
                                  "compiler metadata"], diagnosis=diagnose(None, [], rows, None))
