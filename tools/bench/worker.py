"""Child-process side of `autodocket bench`: correctness, reward-hack checks, timing.

    python -m tools.bench.worker PROBLEM.py KERNEL.py REPORT.json DEVICE [REPEATS]

Runs in the sandbox. On the CPU the harness sets TRITON_INTERPRET=1 before Triton is imported
(the parent does it through the environment) and measures correctness only.
"""
from __future__ import annotations

import json
import statistics
import sys
import time
import traceback
from pathlib import Path

TRIALS = 5
CPU_MAX_ELEMENTS = 1 << 19  # the interpreter runs a program at a time: larger sets take minutes
SLEEP_CYCLES = 400_000  # about 0.2 ms on an H100: longer than any Python-side launch
DEFAULT_TOL = {"torch.float32": (1e-4, 1e-4), "torch.float64": (1e-6, 1e-6),
               "torch.float16": (1e-2, 1e-2), "torch.bfloat16": (1e-2, 1e-2)}


class Rejected(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def _floating(t) -> bool:
    import torch
    return isinstance(t, torch.Tensor) and t.is_floating_point()


def _prepare(inputs, device, dtype):
    import torch
    out = []
    for x in inputs:
        if isinstance(x, torch.Tensor):
            x = x.to(device)
            if dtype is not None and x.is_floating_point():
                x = x.to(dtype)  # only floating tensors take the problem's dtype
        out.append(x)
    return out


class Poison:
    """While active, fresh allocations come back filled with NaN (floats) or a sentinel, so an
    element the candidate never writes cannot pass for a correct one."""

    def __enter__(self):
        import torch
        self.saved = {n: getattr(torch, n) for n in ("empty", "empty_like", "empty_strided")}
        self.saved_new_empty = torch.Tensor.new_empty

        def poisoned(fn):
            def wrapper(*a, **k):
                t = fn(*a, **k)
                if t.is_floating_point():
                    t.fill_(float("nan"))
                elif t.dtype != torch.bool:  # a sentinel that fits the type (int8 too)
                    info = torch.iinfo(t.dtype)
                    t.fill_(max(info.min + 7, -7777) if t.dtype.is_signed else info.max - 7)
                return t
            return wrapper

        for name, fn in self.saved.items():
            setattr(torch, name, poisoned(fn))
        torch.Tensor.new_empty = poisoned(self.saved_new_empty)
        return self

    def __exit__(self, *exc):
        import torch
        for name, fn in self.saved.items():
            setattr(torch, name, fn)
        torch.Tensor.new_empty = self.saved_new_empty
        return False


def _flatten(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


def compare(cand, ref, atol: float, rtol: float) -> dict:
    """Errors of one output against the reference; raises Rejected when it does not match."""
    import torch
    cand_list, ref_list = _flatten(cand), _flatten(ref)
    if len(cand_list) != len(ref_list):
        raise Rejected("wrong-output", f"{len(cand_list)} outputs, reference has {len(ref_list)}")
    worst = {"max_abs_err": 0.0, "max_rel_err": 0.0, "rel_l2_err": 0.0}
    for c, r in zip(cand_list, ref_list):
        if not isinstance(r, torch.Tensor):
            if c != r:
                raise Rejected("wrong-output", f"non-tensor output {c!r} != {r!r}")
            continue
        if type(c) is not torch.Tensor:
            raise Rejected("tensor-subclass", f"output is {type(c).__name__}, not a plain Tensor")
        if c.shape != r.shape:
            raise Rejected("wrong-output", f"shape {tuple(c.shape)} != {tuple(r.shape)}")
        if c.dtype != r.dtype:
            raise Rejected("downcast" if c.itemsize < r.itemsize else "wrong-output",
                           f"dtype {c.dtype} != reference {r.dtype}")
        if c.device != r.device:
            raise Rejected("wrong-output", f"device {c.device} != {r.device}")
        c64, r64 = c.detach().double().cpu(), r.detach().double().cpu()
        if not c.is_floating_point():
            if not torch.equal(c64, r64):
                bad = (c64 != r64).nonzero()[0].tolist()
                raise Rejected("incorrect", f"integer output differs first at {bad}")
            continue
        nan_c, nan_r = torch.isnan(c64), torch.isnan(r64)
        if (nan_c & ~nan_r).any():
            idx = (nan_c & ~nan_r).nonzero()[0].tolist()
            count = int((nan_c & ~nan_r).sum())
            raise Rejected("unwritten-output", f"{count} elements NaN where the reference is not "
                           f"(first at {idx}): never written, or NaN computed")
        ok = nan_c == nan_r
        diff = (c64 - r64).abs().masked_fill(~ok | nan_r, 0)
        tol = atol + rtol * r64.abs().masked_fill(nan_r, 0)
        if (diff > tol).any() or not ok.all():
            idx = (diff > tol).nonzero()[0].tolist() if (diff > tol).any() else []
            raise Rejected("incorrect", f"max abs error {float(diff.max()):.3g} over tolerance "
                           f"(atol {atol}, rtol {rtol}), first at {idx}")
        ref_norm = float(r64.masked_fill(nan_r, 0).norm())
        rel_l2 = float(diff.norm()) / ref_norm if ref_norm > 0 else float(diff.norm())
        if rel_l2 > max(10 * rtol, 1e-3):  # tiny outputs: zeros can sit inside atol
            raise Rejected("incorrect", f"relative L2 error {rel_l2:.3g}: the output does not "
                           "follow the reference (e.g. zeros within the absolute tolerance)")
        rel = diff / r64.abs().clamp_min(atol)
        worst["max_abs_err"] = max(worst["max_abs_err"], float(diff.max()))
        worst["max_rel_err"] = max(worst["max_rel_err"], float(rel.max()))
        worst["rel_l2_err"] = max(worst["rel_l2_err"], rel_l2)
    return worst


def _same(a, b) -> bool:
    import torch
    if not isinstance(a, torch.Tensor):
        return True
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.is_floating_point():
        return bool(((a == b) | (torch.isnan(a) & torch.isnan(b))).all())
    return torch.equal(a, b)


def _sync(device):
    import torch
    if device == "cuda":
        torch.cuda.synchronize()


class GhostKernels:
    """While active, every Triton launch does nothing."""

    def __enter__(self):
        from triton.runtime.autotuner import Autotuner
        from triton.runtime.jit import JITFunction
        self.saved = (JITFunction.run, Autotuner.run)
        JITFunction.run = lambda *a, **k: None
        Autotuner.run = lambda *a, **k: None
        try:  # the interpreter's launcher, on the CPU path
            from triton.runtime.interpreter import InterpretedFunction
            self.saved_interp = InterpretedFunction.run
            InterpretedFunction.run = lambda *a, **k: None
        except ImportError:
            self.saved_interp = None
        return self

    def __exit__(self, *exc):
        from triton.runtime.autotuner import Autotuner
        from triton.runtime.jit import JITFunction
        JITFunction.run, Autotuner.run = self.saved
        if self.saved_interp is not None:
            from triton.runtime.interpreter import InterpretedFunction
            InterpretedFunction.run = self.saved_interp
        return False


def check_correctness(problem, ref, cand, device, dtype, atol, rtol) -> list[dict]:
    """At least five trials of fresh inputs per input set; candidate before and after the
    reference; inputs checked unchanged; outputs poisoned; a ghost run must fail."""
    import torch

    from tools.problem import input_sets, make_inputs
    rows = []
    for label, spec in input_sets(problem):
        if device == "cpu":
            size = sum(x.numel() for x in make_inputs(problem, spec) if isinstance(x, torch.Tensor))
            if size > CPU_MAX_ELEMENTS:
                rows.append({"input_set": label, "skipped": f"{size} input elements: too large "
                             "for the CPU interpreter"})
                continue
        worst = {"max_abs_err": 0.0, "max_rel_err": 0.0, "rel_l2_err": 0.0}
        shapes = None
        for trial in range(TRIALS):
            torch.manual_seed(1000 + trial)
            inputs = _prepare(make_inputs(problem, spec, device), device, dtype)
            shapes = [list(x.shape) for x in inputs if isinstance(x, torch.Tensor)]
            pristine = [x.clone() if isinstance(x, torch.Tensor) else x for x in inputs]
            with torch.no_grad():
                if trial % 2 == 0:  # candidate first: no reference output exists to reuse
                    with Poison():
                        first = cand(*inputs)
                    _sync(device)
                    if not all(_same(a, b) for a, b in zip(inputs, pristine)):
                        raise Rejected("inputs-modified", f"input set {label}, trial {trial}: "
                                       "the candidate changed its inputs")
                    expected = ref(*[x.clone() if isinstance(x, torch.Tensor) else x
                                     for x in pristine])
                    errs = compare(first, expected, atol, rtol)
                else:  # reference first: a freed reference result now sits in the allocator's
                    # cache (KernelBench's buffer-reuse hack); the candidate must not return it
                    stale = ref(*[x.clone() if isinstance(x, torch.Tensor) else x
                                  for x in pristine])
                    del stale
                    expected = ref(*[x.clone() if isinstance(x, torch.Tensor) else x
                                     for x in pristine])
                    with Poison():
                        second = cand(*inputs)
                    _sync(device)
                    if not all(_same(a, b) for a, b in zip(inputs, pristine)):
                        raise Rejected("inputs-modified", f"input set {label}, trial {trial}: "
                                       "the candidate changed its inputs")
                    errs = compare(second, expected, atol, rtol)
            for k in worst:
                worst[k] = max(worst[k], errs[k])
        # ghost run: with every Triton launch a no-op the output must be wrong
        torch.manual_seed(2000)
        inputs = _prepare(make_inputs(problem, spec, device), device, dtype)
        with torch.no_grad():
            expected = ref(*[x.clone() if isinstance(x, torch.Tensor) else x for x in inputs])
            with GhostKernels(), Poison():
                try:
                    ghost = cand(*inputs)
                    _sync(device)
                    compare(ghost, expected, atol, rtol)
                    ghost_ok = True
                except Rejected:
                    ghost_ok = False
                except Exception:  # the candidate could not run without its kernels: fine
                    ghost_ok = False
        if ghost_ok:
            raise Rejected("kernel-does-no-work", f"input set {label}: with every Triton kernel "
                           "replaced by a no-op the output is still correct: PyTorch (or a "
                           "cache) computes it")
        rows.append({"input_set": label, "shapes": shapes, "trials": TRIALS, **worst})
    if not any("trials" in r for r in rows):
        raise Rejected("no-input-set", "every input set is too large for the CPU interpreter; "
                       "add a small one to SHAPES")
    return rows


# timing --------------------------------------------------------------------------------------
def time_callables(fns: dict, input_lists: list, repeats: int) -> dict:
    """Median and 20/80 percentiles (ms) of each callable, interleaved, L2 flushed before each
    run, rotating among input sets. Events time the launching stream; the wall clock around a
    device-wide synchronize catches work on other streams."""
    import torch
    flush = torch.empty(256 * 2**20 // 4, dtype=torch.float32, device="cuda")
    samples = {name: {"event": [], "wall": []} for name in fns}
    with torch.no_grad():
        for fn in fns.values():  # warm-up: compilation and autotuning stay out of the numbers
            for inputs in input_lists:
                for _ in range(3):
                    fn(*inputs)
        torch.cuda.synchronize()
        for rep in range(repeats):
            inputs = input_lists[rep % len(input_lists)]
            for name, fn in fns.items():
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(
                    enable_timing=True)
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                flush.zero_()
                # keep the GPU busy while the host launches fn, so launch latency is not timed
                torch.cuda._sleep(SLEEP_CYCLES)
                start.record()
                fn(*inputs)
                end.record()
                torch.cuda.synchronize()
                t1 = time.perf_counter()
                samples[name]["event"].append(start.elapsed_time(end))
                samples[name]["wall"].append((t1 - t0) * 1000)
    out = {}
    for name, s in samples.items():
        ev = sorted(s["event"])
        out[name] = {"median_ms": statistics.median(ev), "p20_ms": ev[int(0.2 * (len(ev) - 1))],
                     "p80_ms": ev[int(0.8 * (len(ev) - 1))],
                     "wall_median_ms": statistics.median(s["wall"]), "runs": len(ev)}
    return out


def measure(problem, ref, cand, device, dtype, repeats: int, baselines: bool = True) -> dict:
    import torch

    from tools.problem import input_sets, make_inputs
    per_set = []
    for label, spec in input_sets(problem):
        sets = []
        for i in range(4):  # rotate among input sets so a cache keyed on inputs cannot win
            torch.manual_seed(3000 + i)
            sets.append(_prepare(make_inputs(problem, spec, device), device, dtype))
        fns = {"kernel": cand, "eager": ref}
        compile_error = None
        if baselines:
            try:
                compiled = torch.compile(ref)
                with torch.no_grad():
                    compiled(*sets[0])
                fns["compile"] = compiled
            except Exception as err:  # recorded, not fatal
                compile_error = f"{type(err).__name__}: {str(err)[:200]}"
        first = time_callables(fns, sets, repeats)
        second = time_callables(fns, sets, repeats)  # the same kernel again: is it stable?
        row = {"input_set": label, "shapes": [list(x.shape) for x in sets[0]
                                              if isinstance(x, torch.Tensor)],
               "first": first, "second": second, "compile_error": compile_error}
        k1, k2 = first["kernel"]["median_ms"], second["kernel"]["median_ms"]
        row["kernel_drift"] = abs(k2 - k1) / k1 if k1 else 0.0
        for base in ("eager", "compile"):
            if base in first:
                row[f"speedup_vs_{base}"] = first[base]["median_ms"] / k1
        hidden = first["kernel"]["wall_median_ms"] - first["kernel"]["median_ms"]
        ref_hidden = first["eager"]["wall_median_ms"] - first["eager"]["median_ms"]
        if hidden > max(0.05, 0.5 * first["kernel"]["median_ms"]) + ref_hidden:
            raise Rejected("stream-or-thread", f"input set {label}: {hidden:.3f} ms of work "
                           "outside the timed stream (side stream or host work)")
        flags = []
        if max(row.get("speedup_vs_eager", 0), row.get("speedup_vs_compile", 0)) > 10:
            flags.append("speedup over 10x: re-run before believing it")
        if row["kernel_drift"] > 0.10:
            flags.append(f"kernel time moved {row['kernel_drift']:.0%} between two measurements")
        row["flags"] = flags
        per_set.append(row)
    return {"method": "CUDA events around each call (GPU kept busy while the host launches), "
                      "device-wide synchronize after it, L2 flushed (256 MB write) before every "
                      "run, 4 rotating input sets per shape, warm-up 3 calls per set, two "
                      "interleaved passes",
            "repeats": repeats, "sets": per_set}


def roofline_of(problem, median_ms: float, peak: dict) -> tuple[dict | None, str | None]:
    """The default input set on the card's ceilings; a problem whose cost cannot be counted
    gets no position (and the reason), never a rejected candidate."""
    from tools.roofline import place, problem_cost
    try:
        return place(problem_cost(problem), median_ms, peak), None
    except Exception as err:
        return None, f"no roofline position: {type(err).__name__}: {str(err)[:200]}"


def device_info(device: str) -> dict:
    import torch
    import triton
    info = {"device": device, "torch": torch.__version__, "triton": triton.__version__}
    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        info.update(name=props.name, compute_capability=f"{props.major}.{props.minor}",
                    sm_count=props.multi_processor_count, cuda=torch.version.cuda,
                    driver=_driver_version())
    else:
        import platform
        info.update(name=platform.processor() or platform.machine(),
                    note="CPU: Triton interpreter, correctness only, no timing")
    return info


def _driver_version() -> str | None:
    try:
        import subprocess
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 else None
    except (OSError, IndexError, subprocess.SubprocessError):
        return None


def run(problem_path: str, kernel_path: str, device: str, repeats: int,
        baselines: bool = True) -> dict:
    import torch

    from tools.problem import load_candidate, load_problem
    from tools.problem import ProblemError
    report: dict = {"device": device_info(device), "rejections": [], "correctness": None,
                    "timing": None}
    try:
        problem = load_problem(problem_path)
        probe = problem.get_inputs()
        reference = problem.Model(*problem.get_init_inputs())
    except Exception as err:
        raise ProblemError(f"problem file: {type(err).__name__}: {err}") from err
    dtype = getattr(problem, "DTYPE", None)
    if device == "cpu" and dtype == torch.bfloat16:
        dtype = torch.float32  # bf16 arithmetic is wrong in the interpreter
        report["note"] = "bfloat16 problem checked in float32 on the CPU interpreter"
    probe = _prepare(probe, "cpu", dtype)
    first_float = next((x for x in probe if _floating(x)), None)
    dt = str(first_float.dtype) if first_float is not None else "torch.float32"
    atol = getattr(problem, "ATOL", DEFAULT_TOL.get(dt, (1e-4, 1e-4))[0])
    rtol = getattr(problem, "RTOL", DEFAULT_TOL.get(dt, (1e-4, 1e-4))[1])
    if device == "cpu" and dt in ("torch.float16", "torch.bfloat16"):
        atol, rtol = max(atol, 2e-2), max(rtol, 2e-2)
    report["tolerance"] = {"atol": atol, "rtol": rtol, "dtype": dt}
    del reference
    peak = None
    if device == "cuda":  # measured (or handed down) before any candidate code has run
        from tools.roofline import handed_down_ceilings
        peak = handed_down_ceilings()
        report["ceilings"] = peak
    torch.manual_seed(42)
    ref = problem.Model(*problem.get_init_inputs()).to(device)
    try:
        torch.manual_seed(42)  # the same seeded weights as the reference
        candidate = load_candidate(kernel_path)
        cand = candidate.ModelNew(*problem.get_init_inputs()).to(device)
        if dtype is not None:
            ref, cand = ref.to(dtype), cand.to(dtype)
        ref.eval()
        cand.eval()
        report["correctness"] = check_correctness(problem, ref, cand, device, dtype, atol, rtol)
        if device == "cuda":
            report["timing"] = measure(problem, ref, cand, device, dtype, repeats, baselines)
            report["roofline"], report["roofline_error"] = roofline_of(
                problem, report["timing"]["sets"][0]["first"]["kernel"]["median_ms"], peak)
            # after timing, the kernel must still be right on inputs it has never seen
            report["correctness_after_timing"] = check_correctness(
                problem, ref, cand, device, dtype, atol, rtol)[:1]
        skipped = [r for r in report["correctness"] if "skipped" in r]
        if skipped:
            report["note"] = "; ".join(f"input set {r['input_set']} not checked: {r['skipped']}"
                                       for r in skipped)
    except Rejected as r:
        report["rejections"].append({"reason": r.reason, "detail": r.detail})
    except Exception as err:  # the candidate crashed: its failure, recorded with the reason
        text = f"{type(err).__name__}: {str(err)[:500]}"
        oom = isinstance(err, MemoryError) or "out of memory" in text.lower() \
            or "can't allocate memory" in text
        report["rejections"].append({"reason": "memory" if oom else "crash", "detail": text})
        report["traceback"] = traceback.format_exc()[-3000:]
    return report


def main() -> None:
    problem, kernel, out, device = sys.argv[1:5]
    repeats = int(sys.argv[5]) if len(sys.argv) > 5 else 100
    try:
        report = run(problem, kernel, device, repeats, "--no-baselines" not in sys.argv)
    except Exception as err:
        from tools.problem import ProblemError
        report = {"error": f"{type(err).__name__}: {err}", "bad_input": isinstance(err, ProblemError),
                  "traceback": traceback.format_exc()[-4000:]}
    Path(out).write_text(json.dumps(report, default=str, allow_nan=True))


if __name__ == "__main__":
    main()
