"""The candidate's side of `autodocket verify`, in its sandbox: its Triton launches, as data.

    python -m tools.verify.record PROBLEM_COPY.py KERNEL.py

Draws each input set's inputs (on the CPU, seed 0, floats in the problem's DTYPE as the harness
gives them), drops the problem, imports the candidate (its parameters in DTYPE too), and runs
its `forward` once per set with every launch recorded instead of run, on the CPU (a persistent
kernel sizes its grid to a few programs here; in a search on a GPU the harness's candidate
process records the launches on the card instead: `tools.bench.candidate`). Writes
`launches.json`: per set, each launch's kernel name, grid, configuration and arguments
(tensors by dtype, shape, strides, extent and identity; scalars by value). The analysis
(`tools.verify.worker`) runs elsewhere and rebuilds the kernels from the source itself.
"""
from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path


def encode(value, tensors: dict, name: str):
    import torch
    from triton.language import core

    from .trace import TensorDescriptor
    if isinstance(value, core.constexpr):
        value = value.value
    if isinstance(value, torch.Tensor):
        return {"tensor": name}
    if isinstance(value, TensorDescriptor):
        return {"desc": {"shape": [int(n) for n in value.shape],
                         "strides": [int(n) for n in value.strides],
                         "block_shape": [int(n) for n in value.block_shape],
                         "padding": getattr(value, "padding", "zero")}, "tensor": name}
    if isinstance(value, core.dtype):
        return {"tl_dtype": str(value)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    return {"other": type(value).__name__}


def record(problem_path: str, kernel_path: str) -> dict:
    import torch

    from tools.bench.runtime import draw
    from tools.problem import (ProblemError, forget_problem, input_sets, load_candidate,
                               load_problem)

    from .trace import LaunchRecorder
    try:
        problem = load_problem(problem_path)
        dtype = getattr(problem, "DTYPE", None)  # as the harness runs it: floats in DTYPE
        torch.manual_seed(42)
        init = list(problem.get_init_inputs())
        sets = []
        for label, spec in input_sets(problem):
            sets.append((label, draw(problem, spec, 0, "cpu", dtype)))
    except Exception as err:
        raise ProblemError(f"problem file: {type(err).__name__}: {err}") from err
    forget_problem(problem_path)
    torch.manual_seed(42)
    model = load_candidate(kernel_path).ModelNew(*init)
    if dtype is not None:
        model = model.to(dtype)
    out = []
    for label, inputs in sets:
        with LaunchRecorder() as rec, torch.no_grad():
            outputs = model(*inputs)
        out.append(recorded_set(label, rec.launches, outputs))
    return {"sets": out, "kernel_file": str(Path(kernel_path).resolve())}


def recorded_set(label: str, launches, outputs) -> dict:
    """One input set's entry of a launch record: its launches, the arguments that are
    forward's outputs flagged, and the outputs no launch was given."""
    from .trace import mark_outputs
    unwritten = mark_outputs(launches, outputs)
    return {"input_set": label, "launches": as_data(launches), "unwritten_outputs": unwritten}


def as_data(launches) -> list[dict]:
    """Recorded launches as JSON data, for the analysis to read."""
    out = []
    for launch in launches:
        code = launch.fn.fn.__code__
        out.append({
            "kernel": launch.name, "file": code.co_filename, "line": code.co_firstlineno,
            "grid": list(launch.grid), "config": launch.config,
            "options": {k: v for k, v in launch.options.items()
                        if isinstance(v, (int, float, bool, str))},
            "constexprs": sorted(launch.constexpr_names),
            "params": [[n, encode(v, launch.tensors, n)] for n, v in launch.params],
            "tensors": {n: t.__dict__ for n, t in launch.tensors.items()}})
    return out


def main() -> None:
    problem, kernel = sys.argv[1:3]
    try:
        data = record(problem, kernel)
    except Exception as err:
        from tools.problem import ProblemError
        data = {"error": f"{type(err).__name__}: {err}", "bad_input": isinstance(err, ProblemError),
                "traceback": traceback.format_exc()[-4000:]}
    Path("launches.json").write_text(json.dumps(data, default=str))


if __name__ == "__main__":
    main()
