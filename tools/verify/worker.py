"""Child-process side of `autodocket verify`: trace the candidate's launches, analyse each.

    python -m tools.verify.worker PROBLEM.py KERNEL.py REPORT.json

Runs inside the sandbox because tracing executes the candidate's `forward`.
"""
from __future__ import annotations

import inspect
import json
import sys
import time
import traceback
from pathlib import Path


def ir_arguments(runtime: list[tuple[str, object]], count: int) -> list[tuple[str, object]]:
    """The launch's arguments as the kernel's IR lists them: Triton 3.6 follows each tensor
    descriptor with its shape (i32 each) and strides (i64 each); Triton 3.9 does not."""
    from triton.tools.tensor_descriptor import TensorDescriptor
    if len(runtime) == count:
        return runtime
    expanded = []
    for name, value in runtime:
        expanded.append((name, value))
        if isinstance(value, TensorDescriptor):
            expanded += [(f"{name}.shape{i}", int(n)) for i, n in enumerate(value.shape)]
            expanded += [(f"{name}.stride{i}", int(n)) for i, n in enumerate(value.strides)]
    return expanded


def analyse(problem_path: str, kernel_path: str, coverage: bool = True) -> dict:
    started = time.perf_counter()
    import torch
    import triton  # noqa: F401  (import time is reported apart from the analysis)
    import z3

    from tools.problem import input_sets, load_candidate, load_problem, make_inputs

    from .solve import Finding, check_bounds, check_coverage, check_race
    from .symbolic import KernelExecutor, Sym
    from .trace import LaunchRecorder, TensorDescriptor, compile_ttir, mark_outputs
    from .ttir import parse_module

    imported = time.perf_counter()
    problem = load_problem(problem_path)
    candidate = load_candidate(kernel_path)
    torch.manual_seed(42)
    init = list(problem.get_init_inputs())
    torch.manual_seed(42)
    model = candidate.ModelNew(*init)
    findings, launches_out, unsupported = [], [], []
    # coverage whose solver timed out on one input set times out on the next ones too (the
    # same stores over a bigger grid): not tried again, said so
    coverage_timed_out: dict[tuple, str] = {}
    for label, spec in input_sets(problem):
        torch.manual_seed(0)
        inputs = make_inputs(problem, spec)
        with LaunchRecorder() as rec, torch.no_grad():
            outputs = model(*inputs)
        mark_outputs(rec.launches, outputs)
        if not rec.launches:
            unsupported.append(f"input set {label}: forward launched no Triton kernel")
        stores_by_output: dict[str, list] = {}
        seen = set()
        for launch in rec.launches:
            key = (launch.name, launch.grid, launch.config,
                   tuple((n, repr(v) if not isinstance(v, torch.Tensor) else
                          (v.dtype, tuple(v.shape), v.stride())) for n, v in launch.params))
            if key in seen:  # the same launch again (a loop in forward): one analysis
                continue
            seen.add(key)
            start = time.perf_counter()
            src_file = inspect.getsourcefile(launch.fn.fn)
            source_lines = Path(src_file).read_text().splitlines() if src_file else []
            kernel = f"{launch.name} ({label})" + (f" [{launch.config}]" if launch.config else "")
            ir_text = compile_ttir(launch)
            arg_names, ops = parse_module(ir_text, src_file)
            runtime = ir_arguments(launch.runtime_args(), len(arg_names))
            if len(runtime) != len(arg_names):
                raise RuntimeError(f"{launch.name}: IR has {len(arg_names)} arguments, the "
                                   f"launch {len(runtime)}")
            args = []
            for i, (name, value) in enumerate(runtime):
                if isinstance(value, torch.Tensor):
                    args.append(Sym("ptr", (), z3.IntVal(0), base=i))
                elif isinstance(value, TensorDescriptor):
                    args.append(Sym("desc", (), ([int(n) for n in value.shape],
                                                 [int(n) for n in value.strides],
                                                 [int(n) for n in value.block_shape]), base=i))
                elif isinstance(value, bool):
                    args.append(Sym("bool", (), z3.BoolVal(value)))
                elif isinstance(value, int):
                    args.append(Sym("int", (), z3.IntVal(value)))
                else:
                    args.append(Sym("data", ()))
            ex = KernelExecutor(args, launch.grid)
            ex.env.update(dict(zip(arg_names, args)))
            ex.run(ops)
            unsupported += [f"{kernel}: {u}" for u in ex.unsupported]
            tensors = {i: launch.tensors.get(name) for i, (name, _) in enumerate(runtime)}
            names = {i: name for i, (name, _) in enumerate(runtime)}
            for acc in ex.accesses:
                findings.append(check_bounds(kernel, acc, launch.grid, tensors.get(acc.arg),
                                             names.get(acc.arg, "?"), source_lines))
            stores = [a for a in ex.accesses if a.kind == "store"]
            for i, a in enumerate(stores):
                for b in stores[i:]:
                    if a.arg == b.arg and tensors.get(a.arg) is not None:
                        findings.append(check_race(kernel, a, b, launch.grid, tensors[a.arg],
                                                   names[a.arg], source_lines))
            for s in stores:
                t = tensors.get(s.arg)
                if t is not None and t.is_output:
                    stores_by_output.setdefault(t.data_ptr, [t, names[s.arg], kernel, []])[3] \
                        .append((s, launch.grid))
            launches_out.append({
                "kernel": kernel, "input_set": label, "grid": list(launch.grid),
                "tensors": {n: t.describe() for n, t in launch.tensors.items()},
                "accesses": len(ex.accesses), "seconds": round(time.perf_counter() - start, 4)})
        if coverage:
            for t, name, kernel, stores in stores_by_output.values():
                key = (kernel.split(" (")[0], name, tuple(sorted(s.line for s, _ in stores)))
                if key in coverage_timed_out:
                    findings.append(Finding(
                        kernel, "coverage", f"every element of {name} written", "unknown", 0.0,
                        "not tried: the solver timed out on the same stores for input set "
                        f"{coverage_timed_out[key]}"))
                    continue
                finding = check_coverage(kernel, stores, t, name)
                findings.append(finding)
                if finding.status == "unknown" and "time-out" in finding.detail:
                    coverage_timed_out[key] = label
    return {"findings": [f.to_dict() for f in findings], "launches": launches_out,
            "unsupported": unsupported, "import_s": imported - started,
            "analysis_s": time.perf_counter() - imported}


def main() -> None:
    problem, kernel, out = sys.argv[1:4]
    coverage = "--no-coverage" not in sys.argv
    try:
        report = analyse(problem, kernel, coverage)
    except Exception as err:  # the candidate's own failure: reported, not raised
        report = {"error": f"{type(err).__name__}: {err}",
                  "traceback": traceback.format_exc()[-4000:]}
    Path(out).write_text(json.dumps(report, default=str))


if __name__ == "__main__":
    main()
