"""The candidate's side of `autodocket bench`, in its own sandbox: outputs and timings, no
verdict.

    python -m tools.bench.candidate PROBLEM_COPY.py KERNEL.py INIT.pt STATE.pt DEVICE PLAN.json

The problem is loaded first, then dropped from sys.modules and its copy deleted, and only then
is the candidate imported: it cannot change how inputs are made. Each input is drawn just before
its use, from a seed the harness sends then (derived from the reference's secret base): while
the candidate's code is imported, or runs on one draw, no later draw exists in its process, so
there is nothing to answer from a table.
It gets the reference's parameters and buffers by name and shape (STATE.pt). Its outputs go to
`outputs/<set>-<draw>.pt`, its timing samples to `timing.json`, what it saw to `report.json`,
and, asked for, every input set's Triton launches to `launches.json` (what the verifier's own
recording process would write: one process fewer per kernel); the trusted side
(`tools.bench.judge`, in the parent) compares and decides.

Protocol (stdout lines to the harness, stdin lines back):
    @@use-card               (with `claim_card` in the plan) before CUDA starts: the harness
                             holds the card from here to the process's end; "go"
    @@seed <set> <draw>      before each draw (trial0..4, ghost, timing0..3, after), made
                             just before its use: the harness answers with its seed
    @@outputs <set>          a set's outputs are written; the harness answers "next" or "stop"
    @@ready-to-time <set>    warmed up; the harness answers "go" and watches the wall clock
    @@timed <set>            that set's timing is done
PLAN.json names the sets, and optionally the draws (a compute-sanitizer run takes the trials
of one set) and `fill_shared` (fill shared memory before each trial: `runtime.SharedMemoryFill`).
"""
from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

from tools.bench import runtime
from tools.dtypes import dtype_named
from tools.problem import forget_problem


def inputs_only(problem):
    """What drawing inputs needs from a problem module (get_inputs, SHAPES), with its functions
    rebound to a copy of its namespace that holds no nn.Module: the candidate's code, which
    can walk to this from its frames, cannot reach the reference through it."""
    import types

    import torch
    namespace = {k: v for k, v in vars(problem).items()
                 if not (isinstance(v, type) and issubclass(v, torch.nn.Module))}
    for name, value in list(namespace.items()):
        if isinstance(value, types.FunctionType):
            rebound = types.FunctionType(value.__code__, namespace, value.__name__,
                                         value.__defaults__, value.__closure__)
            rebound.__kwdefaults__ = value.__kwdefaults__
            namespace[name] = rebound
    stripped = types.ModuleType("autodocket_problem_inputs")
    stripped.get_inputs = namespace["get_inputs"]
    if "SHAPES" in namespace:
        stripped.SHAPES = namespace["SHAPES"]
    return stripped


class Draws:
    """Every input the candidate will be given, drawn one draw at a time as the harness sends
    its seed (`@@seed <set> <draw>`): none exists, and no seed is known, while the candidate's
    code is imported or runs on an earlier draw. The problem's module is loaded before that
    import and dropped (`forget_problem`); this keeps only its inputs (`inputs_only`)."""

    def __init__(self, problem_path: str, device: str, dtype):
        from tools.problem import input_sets, load_problem
        self._problem = inputs_only(load_problem(problem_path))
        self.specs = dict(input_sets(self._problem))
        self.device, self.dtype = device, dtype
        self.fingerprints: dict[str, list] = {}

    def __call__(self, label: str, name: str) -> list:
        seed = int(ask(f"@@seed {label} {name}"))
        try:
            inputs = runtime.draw(self._problem, self.specs[label], seed, self.device,
                                  self.dtype)
        except Exception as err:  # the problem's fault, not the candidate's: said apart
            raise ProblemInputError(f"{type(err).__name__}: {str(err)[:500]}") from None
        if not name.startswith("timing"):  # the reference fingerprints the judged draws
            self.fingerprints[f"{label}-{name}"] = runtime.fingerprint(inputs)
        return inputs

    def layouts(self, dtype) -> dict:
        """Every set's layout, for recording launches (nothing drawn)."""
        return {label: runtime.layout(self._problem, spec, dtype)
                for label, spec in self.specs.items()}


class ProblemInputError(Exception):
    """The problem's get_inputs() failed in the candidate's process."""


def record_dtype(plan: dict):
    """The problem's declared dtype, which launches are recorded in (also on the CPU, whose
    trials run a bfloat16 problem in float32): the verdict is about the kernel asked for."""
    return dtype_named(plan.get("record_dtype"))


def record_launches(model, init, layouts: dict, dtype, device: str) -> dict:
    """Every input set's Triton launches, recorded instead of run (as `tools.verify.record`
    does in a process of its own), on a fresh instance built as the verifier's is, its
    parameters in `dtype` as its inputs' layouts are, on the device the trials ran on: a
    persistent kernel sizes its grid to the card it sees (on the CPU, to a few programs)."""
    import torch

    from tools.verify.record import recorded_set
    from tools.verify.trace import LaunchRecorder
    torch.manual_seed(42)
    fresh = type(model)(*init).to(device)
    if dtype is not None:
        fresh = fresh.to(dtype)
    sets = []
    for label, described in layouts.items():
        inputs = runtime.materialize(described, device)
        with LaunchRecorder() as recorder, torch.no_grad():
            outputs = fresh(*inputs)
        sets.append(recorded_set(label, recorder.launches, outputs))
    return {"sets": sets}


def build(kernel_path: str, init_path: str, state_path: str, device: str, dtype,
          report: dict):
    import torch

    from tools.problem import load_candidate
    init = runtime.load(init_path)
    torch.manual_seed(42)  # a parameter the reference lacks gets the same seeded start
    model = load_candidate(kernel_path).ModelNew(*init).to(device)
    reference = runtime.load(state_path)
    own = model.state_dict()
    shared = {k: v for k, v in reference.items()
              if k in own and tuple(own[k].shape) == tuple(v.shape)}
    model.load_state_dict(shared, strict=False)
    report["parameters"] = {"from_reference": sorted(shared),
                            "own": sorted(k for k in own if k not in shared)}
    if dtype is not None:
        model = model.to(dtype)
    return model.eval()


def run_draw(model, inputs, device: str, bounds: runtime.BoundsChecked | None = None):
    """The candidate's output for one draw, with fresh allocations poisoned (and, in the CPU
    interpreter, every access bounds-checked); and whether it changed its inputs (a kernel
    that clobbers them is wrong even when its output is right)."""
    import contextlib

    import torch
    pristine = [x.clone() if isinstance(x, torch.Tensor) else x for x in inputs]
    with torch.no_grad(), runtime.Poison(), bounds or contextlib.nullcontext():
        out = model(*inputs)
        runtime.sync(device)
    changed = any(isinstance(a, torch.Tensor) and not _same(a, b)
                  for a, b in zip(inputs, pristine))
    return out, changed


def ghost_run(model, inputs, device: str):
    """The output with every kernel of the candidate's own a no-op (Triton launches, C++/CUDA
    extension functions; the judge requires it to be wrong), or a marker when forward cannot
    run without its kernels (which is fine)."""
    import torch
    try:
        with torch.no_grad(), runtime.GhostKernels(), runtime.Poison():
            out = model(*inputs)
            runtime.sync(device)
        return out
    except Exception as err:
        return {runtime.GHOST_FAILED: f"{type(err).__name__}: {str(err)[:200]}"}


def _same(a, b) -> bool:
    import torch
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.is_floating_point():
        return bool(((a == b) | (torch.isnan(a) & torch.isnan(b))).all())
    return torch.equal(a, b)


def shared_fill(report: dict):
    """The shared-memory fill (`runtime.SharedMemoryFill`), made before the candidate is
    imported; None, with the reason in the report, where it cannot be built here."""
    try:
        return runtime.SharedMemoryFill()
    except Exception as err:
        report["shared_fill_error"] = f"{type(err).__name__}: {str(err)[:300]}"
        return None


def ask(line: str) -> str:
    print(line, flush=True)
    return sys.stdin.readline().strip()


def run(problem_path, kernel_path, init_path, state_path, device, plan, report) -> None:
    clock = runtime.Stopwatch()
    report["steps"] = clock.marks
    import torch
    if plan.get("claim_card"):  # before CUDA starts: the harness holds the card from here
        runtime.claim_card(device)
    if device == "cuda":
        torch.cuda.init()
    clock.lap("import")
    dtype = dtype_named(plan["dtype"])
    try:
        draw = Draws(problem_path, device, dtype)
        layouts = draw.layouts(record_dtype(plan)) if plan.get("record_launches") else None
    except Exception as err:  # the problem's fault, not the candidate's: said apart
        report["input_error"] = f"{type(err).__name__}: {str(err)[:500]}"
        return
    report["fingerprints"] = draw.fingerprints
    forget_problem(problem_path)
    clock.lap("inputs")
    if device == "cuda":  # a C++/CUDA candidate's extension, for the ghost run to reach
        runtime.watch_extensions()
    fill = shared_fill(report) if plan.get("fill_shared") else None
    model = build(kernel_path, init_path, state_path, device, dtype, report)
    clock.lap("build")
    Path("outputs").mkdir(exist_ok=True)
    bounds = runtime.BoundsChecked() if device == "cpu" else None
    if bounds:
        report["bounds"] = bounds
    try:
        if not run_draws(model, draw, plan, device, bounds, fill, report, clock):
            return
        if layouts is not None:
            record = record_launches(model, runtime.load(init_path), layouts,
                                     record_dtype(plan), device)
            record["kernel_file"] = str(Path(kernel_path).resolve())
            Path("launches.json").write_text(json.dumps(record, default=str))
            clock.lap("record")
        if plan["timing"]:
            time_draws(model, draw, plan, device, report, clock)
    except ProblemInputError as err:
        report["input_error"] = str(err)


def run_draws(model, draw: Draws, plan: dict, device: str, bounds, fill, report: dict,
              clock: runtime.Stopwatch) -> bool:
    """Each set's trials and ghost run, drawn one at a time; the harness judges each set.
    False where it said stop (it has its verdict)."""
    import torch
    names = [n for n in runtime.DRAW_NAMES if not plan.get("draws") or n in plan["draws"]]
    for label in plan["sets"]:
        for name in names:
            inputs = draw(label, name)
            if name == "ghost":
                out = ghost_run(model, inputs, device)
            else:
                if fill:  # the trials take the fill's words in turn
                    fill(fill.word_for(name))
                out, changed = run_draw(model, inputs, device, bounds)
                if changed:
                    report.setdefault("inputs_modified", []).append(f"{label}-{name}")
                if any(type(o) is not torch.Tensor and isinstance(o, torch.Tensor)
                       for o in (out if isinstance(out, (tuple, list)) else [out])):
                    report.setdefault("tensor_subclass", []).append(f"{label}-{name}")
            runtime.save(f"outputs/{label}-{name}.pt", out)
            del out, inputs
            clock.lap("trials")  # the first includes compiling the kernels
        if ask(f"@@outputs {label}") != "next":
            return False
        clock.lap("judged")  # the harness comparing this set's outputs
    return True


def time_draws(model, draw: Draws, plan: dict, device: str, report: dict,
               clock: runtime.Stopwatch) -> None:
    """Each set's timing on its rotating draws, then the after-timing draw: the kernel must
    still be right on inputs it has never seen."""
    report["timing"] = {}
    for label in plan["sets"]:
        sets = [draw(label, name) for name in runtime.TIMING_NAMES]
        runtime.warm_up({"kernel": model}, sets)
        report["timing"][label] = runtime.timed_phase(label, {"kernel": model}, sets,
                                                      plan["repeats"])
        del sets
        clock.lap("timing")
    if "default" in plan["sets"]:
        out, _ = run_draw(model, draw("default", "after"), device)
        runtime.save("outputs/default-after.pt", out)
        ask("@@outputs after")


def main() -> None:
    problem, kernel, init, state, device, plan_path = sys.argv[1:7]
    plan = json.loads(Path(plan_path).read_text())
    report: dict = {}
    try:
        run(problem, kernel, init, state, device, plan, report)
    except Exception as err:  # the candidate crashed: its failure, recorded with the reason
        text = f"{type(err).__name__}: {str(err)[:500]}"
        report["crash"] = text
        report["out_of_memory"] = isinstance(err, MemoryError) or "out of memory" in \
            text.lower() or "can't allocate memory" in text
        report["traceback"] = traceback.format_exc()[-3000:]
    if "bounds" in report:
        report["bounds"] = {"violations": report["bounds"].violations,
                            "accesses": report["bounds"].accesses}
    timing = report.pop("timing", None)
    if timing is not None:
        Path("timing.json").write_text(json.dumps(timing))
    Path("report.json").write_text(json.dumps(report, default=str))


if __name__ == "__main__":
    main()
