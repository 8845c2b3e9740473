"""Child side of `autodocket profile` (runs in the sandbox: it executes the candidate).

    python -m tools.profile.worker PROBLEM KERNEL OUT.json DEVICE [--launch-only | --under-ncu]

Records the candidate's Triton launches on the default input set, compiles each kernel for
the card (sm_90 where there is none) and reads its resource usage from the cubin (a C++/CUDA
candidate's kernels: from the library its extension built); on a GPU it
also times the candidate and places it on the roofline. `--launch-only` runs forward once
inside an NVTX range named "autodocket", for Nsight Compute to profile exactly those launches;
`--under-ncu` does that, then the compiler metadata, without timing.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import traceback
from pathlib import Path

OFFLINE_CAPABILITY = 90  # the GPU machine's H100; the metadata of a CPU-only run is for it


def cuobjdump() -> str | None:
    import triton
    bundled = Path(triton.__file__).parent / "backends/nvidia/bin/cuobjdump"
    return str(bundled) if bundled.is_file() else shutil.which("cuobjdump")


def parse_resource_usage(text: str, capability: int | None = None) -> dict[str, dict]:
    """`cuobjdump --dump-resource-usage` output as {kernel: registers, local memory and static
    shared memory per thread}; where the file holds code for several architectures, the
    entries for `capability` (else the first architecture listed)."""
    by_arch: dict[str, dict[str, dict]] = {}
    arch, function = "", None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("arch = "):
            arch = line.split("=", 1)[1].strip()
        elif line.startswith("Function ") and line.endswith(":"):
            function = line[len("Function "):-1]
        elif function and line.startswith("REG:"):
            found = dict(re.findall(r"\b(REG|STACK|LOCAL|SHARED):(\d+)", line))
            # ptxas puts spill slots in the stack frame: local memory per thread is both
            by_arch.setdefault(arch, {})[function] = {
                "registers": int(found["REG"]),
                "local_bytes": int(found.get("LOCAL", 0)) + int(found.get("STACK", 0)),
                "shared_bytes": int(found.get("SHARED", 0))}  # static
            function = None
    wanted = f"sm_{capability}" if capability else None
    return by_arch.get(wanted) or next(iter(by_arch.values()), {})


def _dump_resource_usage(path: Path) -> str | None:
    tool = cuobjdump()
    if tool is None:
        return None
    return subprocess.run([tool, "--dump-resource-usage", str(path)], capture_output=True,
                          text=True, timeout=60).stdout


def resource_usage(cubin: bytes, scratch: Path) -> dict:
    """Registers and local memory (register spills) per thread, from a Triton kernel's cubin."""
    path = scratch / "kernel.cubin"
    path.write_bytes(cubin)
    out = _dump_resource_usage(path)
    if out is None:
        return {"missing": "cuobjdump not found: registers and spills unknown"}
    usage = next(iter(parse_resource_usage(out).values()), None)
    if usage is None:
        return {"missing": f"cuobjdump gave no resource usage: {out.strip()[:200]}"}
    return {k: usage[k] for k in ("registers", "local_bytes")}


def extension_kernels(capability: int) -> list[dict]:
    """The CUDA kernels of every C++/CUDA extension the candidate built (`watch_extensions`),
    with their registers, spills and static shared memory read from the built library: what
    `nvcc -Xptxas -v` prints, without rebuilding it."""
    from tools.bench import runtime
    kernels = []
    for module in runtime.EXTENSIONS:
        library = Path(getattr(module, "__file__", "") or "")
        out = _dump_resource_usage(library) if library.is_file() else None
        usage = parse_resource_usage(out, capability) if out else {}
        if not usage:
            why = "cuobjdump not found" if cuobjdump() is None else \
                f"no CUDA kernel found in {library.name or module.__name__}"
            usage = {module.__name__: {"missing": f"{why}: registers and spills unknown"}}
        for name, meta in usage.items():
            kernels.append({"kernel": _demangled(name), "grid": None, "programs": None,
                            "options": {}, "metadata": {"target": f"sm_{capability}",
                                                        "language": "cuda", **meta}})
    return kernels


def _demangled(name: str) -> str:
    tool = shutil.which("c++filt")
    if tool is None or not name.startswith("_Z"):
        return name
    out = subprocess.run([tool, name], capture_output=True, text=True, timeout=10).stdout
    return out.strip() or name


def compile_metadata(launch, capability: int, scratch: Path) -> dict:
    import triton
    from triton.backends.compiler import GPUTarget

    from tools.verify.trace import ast_source
    source = ast_source(launch)
    compiled = triton.compile(source, target=GPUTarget("cuda", capability, 32),
                              options=dict(launch.options))
    meta = compiled.metadata
    return {"target": f"sm_{capability}", "num_warps": meta.num_warps,
            "num_stages": meta.num_stages, "shared_bytes": meta.shared,
            **resource_usage(compiled.asm["cubin"], scratch),
            # what was compiled: the element types decide the registers and spills
            "tensor_types": {name: kind for name, kind in source.signature.items()
                             if kind.startswith(("*", "tensordesc"))}}


def _capability(device: str) -> int:
    import torch
    if device == "cuda":
        major, minor = torch.cuda.get_device_capability(0)
        return 10 * major + minor
    return OFFLINE_CAPABILITY


def run(problem_path: str, kernel_path: str, device: str, mode: str | None = None) -> dict:
    """`mode` "launch-only": the profiled launch and nothing else; "under-ncu": the profiled
    launch, then the compiler metadata, and no timing (ncu's interception would distort it;
    the harness has timed the kernel already)."""
    import torch

    from tools.bench.runtime import device_info, roofline_of, time_callables
    from tools.bench.runtime import prepare
    from tools.problem import load_candidate, load_problem, make_inputs
    from tools.profile.ncu import NVTX_RANGE
    from tools.verify.trace import LaunchRecorder

    problem = load_problem(problem_path)
    if device == "cuda":  # a C++/CUDA candidate's extension, for its kernels' resource usage
        from tools.bench.runtime import watch_extensions
        watch_extensions()
    # the problem's own dtype on the CPU too (the harness checks bfloat16 in float32 there):
    # launches are only recorded here, not run, and a float32 compile of a bfloat16 kernel
    # would report another kernel's registers and spills
    dtype = getattr(problem, "DTYPE", None)
    torch.manual_seed(42)
    candidate = load_candidate(kernel_path).ModelNew(*problem.get_init_inputs()).to(device)
    if dtype is not None:
        candidate = candidate.to(dtype)
    # the default input set: constexprs (block sizes) may follow the shapes
    inputs = prepare(make_inputs(problem, None, device), device, dtype)
    if mode:
        with torch.no_grad():
            candidate(*inputs)  # compiles (and autotunes) outside the profiled range
            torch.cuda.synchronize()
            torch.cuda.nvtx.range_push(NVTX_RANGE)
            candidate(*inputs)
            torch.cuda.synchronize()
            torch.cuda.nvtx.range_pop()
        if mode == "launch-only":
            return {"launched": True}
    with LaunchRecorder() as recorder, torch.no_grad():
        candidate(*inputs)
    scratch = Path(os.environ.get("TMPDIR", "/tmp"))
    capability = _capability(device)
    kernels, seen = [], {}
    for launch in recorder.launches:
        key = (launch.name, repr(launch.options),
               repr([(n, v) for n, v in launch.params if n in launch.constexpr_names]))
        if key not in seen:
            try:
                seen[key] = compile_metadata(launch, capability, scratch)
            except Exception as err:  # recorded: the profile says what it could not read
                seen[key] = {"missing": f"compile failed: {type(err).__name__}: {err}"[:300]}
        programs = launch.grid[0] * launch.grid[1] * launch.grid[2]
        kernels.append({"kernel": launch.name, "grid": list(launch.grid), "programs": programs,
                        "options": launch.options, "metadata": seen[key]})
    if device == "cuda":
        kernels += extension_kernels(capability)
    report = {"device": device_info(device), "kernels": kernels, "roofline": None}
    if device == "cuda":
        report["device"]["sm_count"] = torch.cuda.get_device_properties(0).multi_processor_count
        if mode == "under-ncu":
            return report
        from tools.roofline import handed_down_ceilings
        peak = handed_down_ceilings()
        timing = time_callables({"kernel": candidate}, [inputs], repeats=30)
        report["ceilings"] = peak
        report["roofline"], missing = roofline_of(problem, timing["kernel"]["median_ms"], peak)
        report["missing"] = [missing] if missing else []
    return report


def main() -> None:
    problem, kernel, out, device = sys.argv[1:5]
    try:
        flags = [a[2:] for a in sys.argv[5:] if a in ("--launch-only", "--under-ncu")]
        report = run(problem, kernel, device, flags[0] if flags else None)
    except Exception as err:
        report = {"error": f"{type(err).__name__}: {err}",
                  "traceback": traceback.format_exc()[-3000:]}
    Path(out).write_text(json.dumps(report, default=str))


if __name__ == "__main__":
    main()
