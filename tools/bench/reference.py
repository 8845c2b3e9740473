"""The reference's side of `autodocket bench`, in its own sandbox (a model may have written the
problem): expected outputs, the reference's weights, and the eager / torch.compile timings.

    python -m tools.bench.reference PROBLEM.py DEVICE PLAN.json

Writes into its working directory (the sandbox's scratch): `meta.json`, `init.pt` (the
constructor's arguments), `state.pt` (the reference's parameters and buffers), and
`expected/<set>-<draw>.pt` for every input set and draw of `runtime.DRAW_NAMES`, each drawn
from its seed (`runtime.draw_seed` of the plan's secret base). On a GPU it
also times the reference, one phase per input set on the harness's signal (after compiling every
set's baseline), into `timing.json`.
The candidate never runs here; this process never sees it.
"""
from __future__ import annotations

import json
import math
import sys
import traceback
from pathlib import Path

from tools.bench import runtime


def run(problem_path: str, device: str, plan: dict) -> dict:
    clock = runtime.Stopwatch()
    import torch  # CUDA starts in the first card window: its context is made under a hold
    clock.lap("import")

    from tools.problem import ProblemError, input_sets, load_problem
    try:
        problem = load_problem(problem_path)
        init = list(problem.get_init_inputs())
        probe = problem.get_inputs()
    except ProblemError:
        raise
    except Exception as err:
        raise ProblemError(f"problem file: {type(err).__name__}: {err}") from err
    dtype = declared = getattr(problem, "DTYPE", None)
    meta: dict = {"notes": [], "steps": clock.marks}
    # the tolerance's bound follows the dtype the problem asks for, also where the CPU
    # interpreter checks a bfloat16 problem in float32
    own = next((x for x in runtime.prepare(probe, "cpu", dtype)
                if isinstance(x, torch.Tensor) and x.is_floating_point()), None)
    meta["bound_dtype"] = str(own.dtype) if own is not None else "torch.float32"
    if device == "cpu" and dtype == torch.bfloat16:
        dtype = torch.float32  # bf16 arithmetic is wrong in the interpreter
        meta["notes"].append("bfloat16 problem checked in float32 on the CPU interpreter")
    first_float = next((x for x in runtime.prepare(probe, "cpu", dtype)
                        if isinstance(x, torch.Tensor) and x.is_floating_point()), None)
    meta["tolerance_dtype"] = str(first_float.dtype) if first_float is not None \
        else "torch.float32"
    meta["declared"] = {"atol": getattr(problem, "ATOL", None),
                        "rtol": getattr(problem, "RTOL", None)}
    meta["dtype"] = str(dtype) if dtype is not None else None
    # the launches the verifier reads are recorded in the declared dtype even where the CPU
    # runs float32: the verdict is about the kernel the problem asks for
    meta["declared_dtype"] = str(declared) if declared is not None else None
    try:
        runtime.save("init.pt", init)
    except Exception as err:
        raise ProblemError("get_init_inputs() must return numbers, strings or tensors: "
                           f"{type(err).__name__}: {err}") from err
    with runtime.card_window(device):  # the card shared while the expected outputs are made
        ref = _expected_outputs(problem, init, device, dtype, plan, meta, clock)
    if plan["timing"]:
        from tools.roofline import problem_cost
        try:
            meta["cost"] = problem_cost(problem)
        except Exception as err:
            meta["notes"].append(f"no roofline position: {type(err).__name__}: "
                                 f"{str(err)[:200]}")
        Path("meta.json").write_text(json.dumps(meta, default=str))  # before the timing
        meta["timing"] = time_reference(problem, dict(input_sets(problem)), ref, device, dtype,
                                        meta, plan, clock)
    return meta


def _expected_outputs(problem, init, device, dtype, plan, meta, clock):
    """The reference built (its weights saved) and every input set's expected outputs, for
    every draw of `runtime.DRAW_NAMES` (and the after-timing draw where it is timed), each from
    its seed;
    returns the reference."""
    import torch

    from tools.problem import input_sets
    torch.manual_seed(42)
    ref = problem.Model(*init).to(device)
    if dtype is not None:
        ref = ref.to(dtype)
    ref.eval()
    runtime.save("state.pt", dict(ref.state_dict()))
    Path("expected").mkdir(exist_ok=True)
    meta["sets"], meta["fingerprints"] = [], {}
    for label, spec in input_sets(problem):
        entry: dict = {"label": label}
        meta["sets"].append(entry)
        if device == "cpu":  # counted on the meta device: a skipped set is never drawn
            size = sum(math.prod(x["shape"]) for x in runtime.layout(problem, spec)
                       if "shape" in x)
            if size > runtime.CPU_MAX_ELEMENTS:
                entry["skipped"] = f"{size} input elements: too large for the CPU interpreter"
                continue
            flops = _flops(problem, spec)
            if flops > runtime.CPU_MAX_FLOPS:  # a few inputs can still be a lot of products
                entry["skipped"] = (f"{flops:.2e} floating-point operations (matmuls, "
                                    "convolutions): too much work for the CPU interpreter")
                continue
        names = runtime.DRAW_NAMES + (["after"] if plan["timing"] and label == "default"
                                      else [])
        for name in names:
            inputs = runtime.draw(problem, spec, runtime.draw_seed(plan["seed"], label, name),
                                  device, dtype)
            entry["shapes"] = [list(x.shape) for x in inputs if isinstance(x, torch.Tensor)]
            meta["fingerprints"][f"{label}-{name}"] = runtime.fingerprint(inputs)
            with torch.no_grad():
                expected = ref(*inputs)
            runtime.sync(device)
            if device == "cpu":  # a small input can make a large output (an outer product)
                size = sum(x.numel() for x in (expected if isinstance(expected, (tuple, list))
                                               else [expected]) if isinstance(x, torch.Tensor))
                if size > runtime.CPU_MAX_ELEMENTS:
                    entry["skipped"] = (f"{size} output elements: too large for the CPU "
                                        "interpreter")
                    entry.pop("shapes", None)
                    meta["fingerprints"].pop(f"{label}-{name}", None)
                    break
            runtime.save(f"expected/{label}-{name}.pt", expected)
            del inputs, expected
        clock.lap("expected")
    return ref


def _flops(problem, spec) -> int:
    """The set's matmul / convolution FLOPs (torch's counter, on the meta device where it
    can); 0 where the problem cannot be counted (its elementwise work is bounded by size)."""
    from tools.roofline import problem_cost
    try:
        return problem_cost(problem, spec)["flops"]
    except Exception:
        return 0


def time_reference(problem, specs: dict, ref, device, dtype, meta: dict, plan: dict,
                   clock: runtime.Stopwatch) -> dict:
    """Every set's torch.compile baseline is built first (each compiled for its own shapes, on
    one draw, the card shared), then every set is timed in turn: the phases follow each other,
    so the harness holds the card alone once for all of them (to this process's end: tearing
    down its CUDA context frees memory on the card) and the runs beside this one wait once."""
    import torch
    entries = [e for e in meta["sets"] if "skipped" not in e]
    baselines: dict[str, dict] = {}
    for entry in entries:
        label = entry["label"]
        baselines[label] = {"eager": ref}
        if plan["baselines"]:
            try:
                compiled = static_compile(ref)
                with runtime.card_window(device):
                    first = runtime.draw(problem, specs[label],
                                         runtime.draw_seed(plan["seed"], label,
                                                           runtime.TIMING_NAMES[0]),
                                         device, dtype)
                    with torch.no_grad():
                        compiled(*first)
                baselines[label]["compile"] = compiled
                del first
            except Exception as err:  # recorded, not fatal
                entry["compile_error"] = f"{type(err).__name__}: {str(err)[:200]}"
    clock.lap("compile")
    timing = {}
    for entry in entries:
        label = entry["label"]
        with runtime.card_window(device):  # the first set's before the card is held alone
            sets = runtime.timing_draws(problem, specs[label], plan["seed"], label, device,
                                        dtype)
            runtime.warm_up(baselines[label], sets)
        timing[label] = runtime.timed_phase(label, baselines[label], sets, plan["repeats"])
        del sets
    clock.lap("timing")
    return timing


def static_compile(model, backend="inductor"):
    """torch.compile specialised to each input set's shapes. By default Dynamo recompiles a
    second shape as a dynamic-shape graph, and the baseline of every set after the first would
    be a shape-generic kernel: slower than what torch.compile makes for that shape alone."""
    import torch
    return torch.compile(model, backend=backend, dynamic=False)


def main() -> None:
    problem, device, plan = sys.argv[1], sys.argv[2], json.loads(Path(sys.argv[3]).read_text())
    try:
        meta = run(problem, device, plan)
    except Exception as err:
        from tools.problem import ProblemError
        meta = {"error": f"{type(err).__name__}: {err}", "bad_input": isinstance(err, ProblemError),
                "traceback": traceback.format_exc()[-4000:]}
    timing = meta.pop("timing", None)
    if timing is not None:
        Path("timing.json").write_text(json.dumps(timing))
    Path("meta.json").write_text(json.dumps(meta, default=str))


if __name__ == "__main__":
    main()
