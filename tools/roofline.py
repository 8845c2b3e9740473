"""The roofline: the least a problem must move and compute, and what this card can do.

    cost = problem_cost(problem_module)        # {"bytes": ..., "flops": ...}, nothing computed
    peak = ceilings()                          # measured once per card and cached
    place(cost, median_ms, peak)               # achieved rates, the bound, the fraction of it

The ceilings are measured, not taken from a data sheet: device-to-device copy bandwidth (bytes
read plus written per second) and the dense bf16 matmul rate of cuBLAS at 8192^3.
"""
from __future__ import annotations

import json
import os

from tools.cache import cache_path, write_atomic

COPY_ELEMENTS = 2**28  # 1 GiB of float32 each way: far past every cache
MATMUL_SIZE = 8192
HANDED_DOWN = "AUTODOCKET_CEILINGS"  # a sandboxed child's HOME is a scratch folder: no cache


def problem_cost(problem, spec=None) -> dict:
    """Every input and parameter read once and every output written once (bytes); FLOPs as
    counted by torch.utils.flop_counter (matmuls, convolutions, attention), halved for causal
    attention, whose masked half of the scores is no work. Runs on meta tensors where the
    problem's operations allow, else on the CPU."""
    try:
        return _cost(problem, spec, "meta")
    except (NotImplementedError, RuntimeError):  # data-dependent ops (bincount, nonzero)
        return _cost(problem, spec, "cpu")


def _cost(problem, spec, device: str) -> dict:
    import inspect

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from tools.problem import make_inputs, problem_ops
    dtype = getattr(problem, "DTYPE", None)
    with torch.device(device):
        model = problem.Model(*problem.get_init_inputs())
        inputs = [x.to(dtype) if dtype is not None and x.is_floating_point() else x
                  for x in make_inputs(problem, spec, device) if isinstance(x, torch.Tensor)]
    if dtype is not None:
        model = model.to(dtype)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        out = model(*inputs)
    outs = [o for o in (out if isinstance(out, (tuple, list)) else [out])
            if isinstance(o, torch.Tensor)]
    size = sum(t.numel() * t.element_size() for t in [*inputs, *outs, *model.parameters()])
    flops = counter.get_total_flops()
    if "causal" in problem_ops(inspect.getsource(problem)):
        flops //= 2
    return {"bytes": int(size), "flops": int(flops),
            "inputs": [list(x.shape) for x in inputs]}


def moved_bytes(problem, spec=None) -> int | None:
    """The bytes `problem_cost` counts for one input set, None where they cannot be counted
    (a ranking or a gate then leaves the set out of its sizes, not the run)."""
    try:
        return problem_cost(problem, spec)["bytes"]
    except Exception:
        return None


def known_ceilings() -> dict:
    """Every card's ceilings measured on this machine so far, by card key."""
    cache = cache_path("ceilings.json")
    return json.loads(cache.read_text()) if cache.is_file() else {}


def measured_already(gpu: str) -> bool:
    """Whether the ceilings of GPU `gpu` (an index or UUID, as CUDA_VISIBLE_DEVICES names it)
    under this torch are known, read without starting CUDA here (its name from nvidia-smi):
    then a child that reports them only reads them. Where that cannot be told, False."""
    import subprocess

    import torch  # its version only: CUDA stays unstarted
    try:
        name = subprocess.run(["nvidia-smi", "-i", gpu, "--query-gpu=name",
                               "--format=csv,noheader"], capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(name) and f"{name} | torch {torch.__version__}" in known_ceilings()


def remember(entry: dict) -> None:
    """Keep a measurement a sandboxed child made (its HOME is a scratch folder)."""
    known = known_ceilings()
    known[entry["key"]] = entry
    write_atomic(cache_path("ceilings.json"), json.dumps(known, indent=1))


def hand_down() -> dict[str, str]:
    """The environment that gives a sandboxed child the ceilings measured so far; what it
    measures itself comes back in its report, for `remember`."""
    return {HANDED_DOWN: json.dumps(known_ceilings())}


def handed_down_ceilings() -> dict:
    """In the sandboxed child: this card's ceilings, handed down or measured now."""
    return ceilings(known=json.loads(os.environ.get(HANDED_DOWN) or "{}"))


def ceilings(known: dict | None = None, refresh: bool = False) -> dict:
    """This card's measured copy bandwidth and bf16 matmul rate, measured once per card and
    torch version. `known`: earlier measurements handed to a sandboxed child; without it the
    cache file is read and written here."""
    import torch
    key = f"{torch.cuda.get_device_name(0)} | torch {torch.__version__}"
    own_cache = known is None
    known = known_ceilings() if own_cache else known
    if key in known and not refresh:
        return known[key]
    copy_ms, mm_ms = _median_ms("copy"), _median_ms("matmul")
    entry = {"key": key, "device": torch.cuda.get_device_name(0),
             "copy_bytes_per_s": 2 * COPY_ELEMENTS * 4 / (copy_ms * 1e-3),
             "bf16_flops_per_s": 2 * MATMUL_SIZE**3 / (mm_ms * 1e-3),
             "method": f"triton.testing.do_bench medians: copy of {COPY_ELEMENTS} float32, "
                       f"torch bf16 matmul {MATMUL_SIZE}^3 (cuBLAS)"}
    if own_cache:
        remember(entry)
    return entry


def _median_ms(what: str) -> float:
    """One ceiling's benchmark; its buffers are freed on return."""
    import torch
    from triton.testing import do_bench
    if what == "copy":
        src = torch.empty(COPY_ELEMENTS, dtype=torch.float32, device="cuda")
        dst = torch.empty_like(src)
        return do_bench(lambda: dst.copy_(src), warmup=25, rep=200, return_mode="median")
    a = torch.randn(MATMUL_SIZE, MATMUL_SIZE, dtype=torch.bfloat16, device="cuda")
    b = torch.randn_like(a)
    return do_bench(lambda: a @ b, warmup=25, rep=200, return_mode="median")


def place(cost: dict, median_ms: float, peak: dict) -> dict:
    """Achieved bandwidth and FLOP rate, which ceiling binds (by arithmetic intensity against
    the ridge point) and the fraction of that ceiling reached."""
    seconds = median_ms * 1e-3
    bandwidth = cost["bytes"] / seconds
    rate = cost["flops"] / seconds
    ridge = peak["bf16_flops_per_s"] / peak["copy_bytes_per_s"]
    intensity = cost["flops"] / cost["bytes"] if cost["bytes"] else float("inf")
    bound = "compute" if cost["flops"] and intensity > ridge else "memory"
    fraction = rate / peak["bf16_flops_per_s"] if bound == "compute" else \
        bandwidth / peak["copy_bytes_per_s"]
    return {"bytes": cost["bytes"], "flops": cost["flops"], "median_ms": median_ms,
            "bandwidth_bytes_per_s": bandwidth, "flops_per_s": rate,
            "intensity_flops_per_byte": intensity, "ridge_flops_per_byte": ridge,
            "bound": bound, "fraction_of_ceiling": fraction}
