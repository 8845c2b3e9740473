"""Problem and candidate files in KernelBench form, loaded by path.

A problem file defines `Model`, `get_inputs()`, `get_init_inputs()` and optionally `ATOL`,
`RTOL`, `DTYPE` and `SHAPES` (a list of alternative input sets: each an argument tuple for
`get_inputs`, or a dict of keyword arguments). A candidate defines `ModelNew` with the same
constructor and forward signature. Loading executes the file: call this only in a sandbox.
"""
from __future__ import annotations

import ast
import importlib.util
import sys
import types
from pathlib import Path


# nn modules whose construction in Model.__init__ says what forward computes
_MODULE_OPS = {"LayerNorm": "layer_norm", "RMSNorm": "rms_norm", "Softmax": "softmax",
               "LogSoftmax": "log_softmax", "GELU": "gelu", "SiLU": "silu", "Linear": "linear",
               "Conv2d": "conv2d", "MultiheadAttention": "attention"}
_BINOPS = {ast.RShift: "rshift", ast.LShift: "lshift", ast.MatMult: "matmul", ast.Pow: "pow"}


def problem_ops(source: str) -> set[str]:
    """Operations the problem's Model uses, read from its source (nothing is executed)."""
    tree = ast.parse(source)
    ops: set[str] = set()
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Model"):
        for node in ast.walk(cls):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                ops.add(_MODULE_OPS.get(name, name))
                # the flags that change what a call computes, where a template cares
                flags = {k.arg: getattr(k.value, "value", None) for k in node.keywords}
                if flags.get("approximate") == "tanh":
                    ops.add(name + "_tanh")  # gelu(..., approximate="tanh")
                if flags.get("is_causal") is True:
                    ops.add("causal")
            elif isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
                ops.add(_BINOPS[type(node.op)])
    return ops


class ProblemError(ValueError):
    """The problem or candidate file is not usable (exit code 2)."""


def load_module(path: str | Path, name: str) -> types.ModuleType:
    path = Path(path).resolve()
    if not path.is_file():
        raise ProblemError(f"{path}: no such file")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # triton.jit looks its function's module up
    spec.loader.exec_module(module)
    return module


def load_problem(path: str | Path) -> types.ModuleType:
    module = load_module(path, "autodocket_problem")
    missing = [n for n in ("Model", "get_inputs", "get_init_inputs") if not hasattr(module, n)]
    if missing:
        raise ProblemError(f"{path}: problem file lacks {', '.join(missing)}")
    return module


def forget_problem(path: str | Path) -> None:
    """Unload a problem and delete its (private) copy before a candidate is imported: the
    reference must not be reachable from the candidate's code."""
    import gc
    sys.modules.pop("autodocket_problem", None)
    Path(path).unlink()
    gc.collect()


def load_candidate(path: str | Path) -> types.ModuleType:
    module = load_module(path, "autodocket_candidate")
    if not hasattr(module, "ModelNew"):
        raise ProblemError(f"{path}: candidate file defines no ModelNew")
    return module


def input_sets(problem: types.ModuleType) -> list[tuple[str, object]]:
    """(label, argument spec) for each input set: the default, then each of SHAPES."""
    sets = [("default", None)]
    for i, spec in enumerate(getattr(problem, "SHAPES", []) or []):
        sets.append((f"set{i + 1}", spec))
    return sets


def make_inputs(problem: types.ModuleType, spec, device: str = "cpu") -> list:
    """The input set `spec`, created on `device`: random inputs of a few hundred MB are drawn
    on the GPU in milliseconds, on the CPU in seconds."""
    import torch
    with torch.device(device):
        if spec is None:
            return list(problem.get_inputs())
        if isinstance(spec, dict):
            return list(problem.get_inputs(**spec))
        return list(problem.get_inputs(*spec))


def check(path: str | Path) -> list[dict]:
    """Run the reference once per input set on the CPU: what a planner's problem must survive."""
    import torch
    problem = load_problem(path)
    model = problem.Model(*problem.get_init_inputs())
    report = []
    with torch.no_grad():
        for label, spec in input_sets(problem):
            inputs = make_inputs(problem, spec)
            out = model(*inputs)
            outs = out if isinstance(out, (tuple, list)) else [out]
            report.append({"input_set": label,
                           "inputs": [list(t.shape) for t in inputs if hasattr(t, "shape")],
                           "outputs": [list(t.shape) for t in outs if hasattr(t, "shape")],
                           "dtype": str(getattr(problem, "DTYPE", torch.float32))})
    if len(report) < 2:
        raise ProblemError(f"{path}: one input set only; add SHAPES with another (a non-power-"
                           "of-two one)")
    return report


if __name__ == "__main__":  # python -m tools.problem PATH (run sandboxed: it executes the file)
    import json
    print(json.dumps(check(sys.argv[1])))
