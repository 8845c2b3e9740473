"""Check every problem of the suite on the CPU: it loads, its inputs are seeded and valid, its
output is finite and deterministic, and it has a CPU-sized input set.

    python3 benchmarks/suite/check_suite.py [-v] [FILE_OR_FOLDER ...]

For each problem: Model(*get_init_inputs()) is built after torch.manual_seed(0) and put in eval
mode (as the harness does); forward runs twice under no_grad on the default set (skipped when its
inputs hold 20M elements or more) and on every SHAPES entry, inputs drawn after
torch.manual_seed(0). One line per failing problem, then a total; exit 1 if any failed.
"""
from __future__ import annotations

import argparse
import ast
import importlib.util
import re
import sys
import time
import traceback
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

SUITE = Path(__file__).resolve().parent
FOLDERS = ("level1", "fused")
DEFAULT_MAX_ELEMENTS = 20_000_000  # the default set runs on the CPU only below this
CPU_SET_ELEMENTS = 100_000         # at least one SHAPES entry at most this many input elements
CPU_SET_FLOPS = 25_000_000         # ... and its matmul/conv FLOPs (the brief says ~20 MFLOP)
NAME = re.compile(r"^\d\d_[a-z0-9_]+\.py$")


class Failed(Exception):
    pass


def load(path: Path):
    spec = importlib.util.spec_from_file_location(f"suite_{path.parent.name}_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def static_checks(path: Path) -> None:
    if not NAME.match(path.name):
        raise Failed("file name is not NN_lowercase_name.py")
    tree = ast.parse(path.read_text())
    doc = ast.get_docstring(tree)
    if not doc or len(doc.strip().splitlines()) != 1:
        raise Failed("needs a one-line module docstring")
    names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    missing = {"Model", "get_inputs", "get_init_inputs"} - names
    if missing:
        raise Failed(f"lacks {', '.join(sorted(missing))}")
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "get_inputs":
            for call in ast.walk(node):
                if isinstance(call, ast.Call) and any(k.arg == "device" for k in call.keywords):
                    raise Failed("get_inputs passes device=: inputs must use the default device")


def make_inputs(module, spec, device: str = "cpu") -> list:
    with torch.device(device):
        if spec is None:
            return list(module.get_inputs())
        if isinstance(spec, dict):
            return list(module.get_inputs(**spec))
        return list(module.get_inputs(*spec))


def count_elements(module, spec) -> int:
    try:
        inputs = make_inputs(module, spec, "meta")
    except Exception:  # an op with no meta kernel: draw it for real
        inputs = make_inputs(module, spec, "cpu")
    return sum(x.numel() for x in inputs if isinstance(x, torch.Tensor))


def flatten(out) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def run_set(model, module, spec, label: str, count_flops: bool = False) -> int:
    """Run one input set twice; returns the matmul/conv FLOPs counted (0 unless asked)."""
    torch.manual_seed(0)
    inputs = make_inputs(module, spec)
    torch.manual_seed(0)
    again = make_inputs(module, spec)
    for a, b in zip(inputs, again):
        if isinstance(a, torch.Tensor) and not torch.equal(a, b):
            raise Failed(f"{label}: inputs differ under the same seed (not torch's generator?)")
    del again
    for x in inputs:
        if isinstance(x, torch.Tensor) and x.is_floating_point() and x.dtype != torch.float32:
            raise Failed(f"{label}: a float input is {x.dtype}, not float32")
    flops = 0
    with torch.no_grad():
        if count_flops:
            counter = FlopCounterMode(display=False)
            with counter:
                first = model(*inputs)
            flops = counter.get_total_flops()
        else:
            first = model(*inputs)
        second = model(*inputs)
    outs, outs2 = flatten(first), flatten(second)
    if not any(isinstance(o, torch.Tensor) for o in outs):
        raise Failed(f"{label}: no tensor output")
    for o, o2 in zip(outs, outs2):
        if not isinstance(o, torch.Tensor):
            continue
        if o.is_floating_point():
            if o.dtype != torch.float32:
                raise Failed(f"{label}: output is {o.dtype}, not float32")
            if not torch.isfinite(o).all():
                raise Failed(f"{label}: output not finite")
        if not torch.equal(o, o2):
            raise Failed(f"{label}: two forward calls differ")
    return flops


def check(path: Path, verbose: bool) -> str | None:
    start = time.perf_counter()
    try:
        static_checks(path)
        module = load(path)
        if getattr(module, "DTYPE", torch.float32) != torch.float32:
            raise Failed("DTYPE is not float32")
        shapes = list(getattr(module, "SHAPES", []) or [])
        if not shapes:
            raise Failed("no SHAPES")
        sizes = [count_elements(module, s) for s in shapes]
        small = [i for i, n in enumerate(sizes) if n <= CPU_SET_ELEMENTS]
        if not small:
            raise Failed(f"no SHAPES entry of <= {CPU_SET_ELEMENTS} input elements "
                         f"(smallest: {min(sizes)})")
        torch.manual_seed(0)
        model = module.Model(*module.get_init_inputs())
        model.eval()
        notes = []
        default_size = count_elements(module, None)
        if default_size < DEFAULT_MAX_ELEMENTS:
            run_set(model, module, None, "default")
        else:
            notes.append(f"default skipped ({default_size / 1e6:.1f}M elements)")
        for i, spec in enumerate(shapes):
            flops = run_set(model, module, spec, f"SHAPES[{i}] {spec}",
                            count_flops=i in small)
            if i in small and flops > CPU_SET_FLOPS:
                raise Failed(f"SHAPES[{i}] {spec} is CPU-sized by elements but costs "
                             f"{flops / 1e6:.0f} MFLOP (> {CPU_SET_FLOPS / 1e6:.0f})")
        if verbose:
            print(f"ok    {path.parent.name}/{path.name}  {time.perf_counter() - start:5.2f}s  "
                  f"default {default_size / 1e6:.1f}M  {'; '.join(notes)}")
        return None
    except Failed as err:
        return str(err)
    except Exception as err:  # the problem itself raised
        if verbose:
            traceback.print_exc()
        return f"{type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("-v", "--verbose", action="store_true", help="a line per problem")
    args = parser.parse_args()
    targets = args.paths or [SUITE / f for f in FOLDERS]
    files = []
    for t in targets:
        files += sorted(t.glob("*.py")) if t.is_dir() else [t]
    start = time.perf_counter()
    failed = 0
    per_folder: dict[str, int] = {}
    for path in files:
        per_folder[path.parent.name] = per_folder.get(path.parent.name, 0) + 1
        reason = check(path, args.verbose)
        if reason:
            failed += 1
            print(f"FAIL  {path.parent.name}/{path.name}: {reason}", flush=True)
    counts = ", ".join(f"{k} {v}" for k, v in per_folder.items())
    print(f"{len(files) - failed}/{len(files)} problems pass ({counts}; {failed} failed) "
          f"in {time.perf_counter() - start:.0f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
