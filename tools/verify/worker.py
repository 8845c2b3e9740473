"""The analysis of `autodocket verify`: the recorded launches, proved or refuted with Z3.

    python -m tools.verify.worker KERNEL.py LAUNCHES.json REPORT.json [--no-coverage]

Runs where the candidate never ran (a job of the sandboxed analysis zygote): it reads the
launches the candidate's sandbox recorded as data, rebuilds the kernels from the source
(`kernel_source`: only checked Triton code is executed), compiles each to TTIR and executes it
symbolically (`symbolic`), then asks Z3.
"""
from __future__ import annotations

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


def rebuild(record: dict, kernels: dict, kernel_file: str, tl_line: dict):
    """A recorded launch as the analysis needs it: the kernel rebuilt from the source, meta
    tensors for the tensors (their shape, strides and dtype are all the compiler reads), the
    scalars as recorded. Raises ValueError for what cannot be trusted or understood."""
    import triton.language as tl

    from .trace import Launch, TensorArg, TensorDescriptor
    name = str(record["kernel"])
    fn = kernels.get(name)
    if fn is None:
        raise ValueError(f"kernel {name} was launched but is not a checked top-level "
                         "@triton.jit function of the candidate file")
    if record.get("file") != kernel_file or record.get("line") != tl_line.get(name):
        raise ValueError(f"the launched {name} is not the top-level function of that name "
                         f"(defined at {record.get('file')}:{record.get('line')})")
    tensors = {}
    for arg, t in record["tensors"].items():
        tensors[str(arg)] = TensorArg(str(t["dtype"]), tuple(int(n) for n in t["shape"]),
                                      tuple(int(n) for n in t["strides"]), int(t["extent"]),
                                      int(t["data_ptr"]), bool(t["is_output"]))
    params = []
    for arg, value in record["params"]:
        if "desc" in value:
            base = _meta_tensor(tensors[value["tensor"]])
            d = value["desc"]
            params.append((arg, TensorDescriptor(base, [int(n) for n in d["shape"]],
                                                 [int(n) for n in d["strides"]],
                                                 [int(n) for n in d["block_shape"]])))
        elif "tensor" in value:
            params.append((arg, _meta_tensor(tensors[value["tensor"]])))
        elif "tl_dtype" in value:
            params.append((arg, tl.dtype(str(value["tl_dtype"]))))
        elif "value" in value and (value["value"] is None or
                                   isinstance(value["value"], (bool, int, float, str))):
            params.append((arg, value["value"]))
        else:
            raise ValueError(f"argument {arg} of {name} is a {value.get('other', '?')}: not a "
                             "tensor, descriptor or scalar")
    grid = tuple(int(g) for g in record["grid"])
    if len(grid) != 3 or min(grid) < 0:
        raise ValueError(f"{name}: grid {grid} is not three sizes")
    options = {k: v for k, v in record.get("options", {}).items()
               if k in ("num_warps", "num_stages", "num_ctas", "maxnreg")}
    return Launch(fn, grid, params, set(record["constexprs"]), str(record.get("config", "")),
                  tensors, options)


def _meta_tensor(t):
    import torch

    from tools.dtypes import dtype_named
    return torch.empty_strided(t.shape, t.strides, dtype=dtype_named(t.dtype), device="meta")


def analyse(kernel_path: str, launches_path: str, coverage: bool = True) -> dict:
    started = time.perf_counter()
    import torch
    import triton  # noqa: F401  (import time is reported apart from the analysis)
    import z3

    from .kernel_source import load_kernels, top_level_lines
    from .solve import Finding, check_bounds, check_coverage, check_race
    from .symbolic import KernelExecutor, Sym
    from .trace import TensorDescriptor, compile_ttir
    from .ttir import parse_module

    imported = time.perf_counter()
    recorded = json.loads(Path(launches_path).read_text())
    kernels, problems = load_kernels(kernel_path)
    lines = top_level_lines(kernel_path)
    source_lines = Path(kernel_path).read_text().splitlines()
    findings, launches_out, unsupported = [], [], [f"not analysed: {p}" for p in problems]
    # coverage whose solver timed out on one input set times out on the next ones too (the
    # same stores over a bigger grid): not tried again, said so
    coverage_timed_out: dict[tuple, str] = {}
    for entry in recorded["sets"]:
        label = str(entry["input_set"])
        if not entry["launches"]:
            unsupported.append(f"input set {label}: forward launched no Triton kernel")
        # coverage of an output no launch is given fails outright: its elements come from
        # PyTorch (or a cache), which the kernels' proofs say nothing about (with no launch
        # at all nothing is proved, and the set is unsupported above)
        for position in (entry.get("unwritten_outputs") or []) if entry["launches"] else []:
            findings.append(Finding(f"forward ({label})", "coverage", f"output {position}",
                                    "violated", 0.0, f"input set {label}: output {position} of "
                                    "forward is given to no Triton launch, so no kernel writes "
                                    "it (PyTorch or a cache makes it)"))
        stores_by_output: dict[int, list] = {}
        seen = set()
        for record in entry["launches"]:
            try:
                launch = rebuild(record, kernels, recorded["kernel_file"], lines)
            except (ValueError, KeyError, TypeError) as err:
                unsupported.append(f"input set {label}: {err}")
                continue
            dedup = (launch.name, launch.grid, launch.config,
                     tuple((n, repr(v) if not isinstance(v, torch.Tensor) else
                            (v.dtype, tuple(v.shape), v.stride())) for n, v in launch.params))
            if dedup in seen:  # the same launch again (a loop in forward): one analysis
                continue
            seen.add(dedup)
            start = time.perf_counter()
            kernel = f"{launch.name} ({label})" + (f" [{launch.config}]" if launch.config else "")
            ir_text = compile_ttir(launch)
            arg_names, ops = parse_module(ir_text, str(Path(kernel_path).resolve()))
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
                finding = check_coverage(kernel, stores, t, name,
                                         quantified=key not in coverage_timed_out)
                findings.append(finding)
                if finding.status == "unknown" and "time-out" in finding.detail:
                    coverage_timed_out[key] = label
    return {"findings": [f.to_dict() for f in findings], "launches": launches_out,
            "unsupported": unsupported, "import_s": imported - started,
            "analysis_s": time.perf_counter() - imported}


def main() -> None:
    kernel, launches, out = sys.argv[1:4]
    coverage = "--no-coverage" not in sys.argv
    try:
        report = analyse(kernel, launches, coverage)
    except Exception as err:  # a kernel the compiler refuses, say: reported, not raised
        report = {"error": f"{type(err).__name__}: {err}",
                  "traceback": traceback.format_exc()[-4000:]}
    Path(out).write_text(json.dumps(report, default=str))


if __name__ == "__main__":
    main()
