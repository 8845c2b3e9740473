"""What a catalog problem's template kernel compiles to for Hopper (sm_90: H100, H200), on a
machine without a GPU.

    python benchmarks/sm90_offline.py PROBLEM [--config JSON] [--template-source FILE]
        [--json OUT]

PROBLEM is a catalog name (kernels/problems: gqa_causal_attention, moe_top2_routing, ...) or a
problem file a template fits. Its template is rendered with the configuration (the template's
default, with --config over it), its ModelNew runs on the problem's default input set on the CPU
with every Triton launch recorded instead of run (the verifier's recorder), and each launched
kernel is compiled for sm_90 with its arguments' types and Triton's launch-time specialisation
(pointers 16-byte aligned, integers divisible by 16, integers equal to 1), its warps, stages and
register cap: the code a GPU would compile for that launch (but for a persistent kernel's
program count, the CPU's few here, which the matmul takes as a constant). Triton's bundled ptxas
compiles for sm_90 without a driver, so the code of a candidate can be read before a GPU
session: registers and stack bytes a thread (where spills go) and machine (SASS) instructions
from the cubin, as the bundled cuobjdump reads them, the PTX instruction count and mix (an
instruction-bound kernel such as MoE routing is as fast as its instructions per element allow),
shuffles and barriers, and for the tensor-core dots (`warp_group_dot`) how many are asynchronous
and which the compiler waits for right after issuing them with no dot left pending (nothing
overlaps those; named after the source variable they compute).
`--template-source` renders from another copy of the template module (an earlier commit's:
`git show REV:kernels/templates/attention.py > FILE`). The counts are those of the Triton that
runs this script: the GPU machine's is 3.6 (2026-12), this machine's 3.9. For 3.6's code,
install it beside the project's and put it first on the path:

    pip download triton==3.6.0 --no-deps -d /tmp/w
    pip install --no-deps --target /tmp/t36 /tmp/w/*.whl
    PYTHONPATH=/tmp/t36 python benchmarks/sm90_offline.py gqa_causal_attention

so compiled, attention gave the registers and spills ncu read on the H200 for the same three
configurations (255 registers and 24 bytes spilled at 4 warps 128x64, 140 at 8 warps, 187 at
8 warps 128x128: benchmarks/measured/h200-profile-attention-2026-12-03.txt). Never a timing.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.provenance import commit  # noqa: E402

# floating-point contraction on, as Triton before 3.10 does by default (the GPU machine's 3.6)
os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")


def recorded_launches(problem_path: Path, config: dict | None, template_source: Path | None):
    """The problem's template rendered with `config` over its default, and the launches its
    ModelNew makes on the default input set (recorded, not run). Returns (config, launches)."""
    import torch

    from kernels.library import Match, match, render
    from tools.bench.runtime import draw
    from tools.problem import load_candidate, load_module, load_problem
    from tools.verify.trace import LaunchRecorder
    found = match(problem_path)
    if found is None:
        raise ValueError(f"no template fits {problem_path}")
    if template_source:
        found = Match(load_module(template_source, "template_copy"), found.ops, found.source)
    config = {**found.template.DEFAULT, **(config or {})}
    problem = load_problem(problem_path)
    dtype = getattr(problem, "DTYPE", None)  # as the GPU runs it
    inputs = draw(problem, None, 0, "cpu", dtype)  # the default set
    with tempfile.TemporaryDirectory() as scratch:  # the kernels keep their source in memory
        kernel = Path(scratch) / "kernel.py"
        kernel.write_text(render(found, config))
        model = load_candidate(kernel).ModelNew(*problem.get_init_inputs())
    if dtype is not None:
        model = model.to(dtype)
    with LaunchRecorder() as recorder, torch.no_grad():
        model(*inputs)
    return config, recorder.launches


def compile_for_sm90(launch):
    import triton
    from triton.backends.compiler import GPUTarget

    from tools.verify.trace import ast_source
    return triton.compile(ast_source(launch, specialise=True), target=GPUTarget("cuda", 90, 32),
                          options=dict(launch.options))


def resources(compiled) -> dict:
    """Registers and stack bytes a thread (spilled registers live there) of the cubin, as the
    bundled cuobjdump reads them (what ncu's launch statistics show on the GPU), and its
    machine (SASS) instructions: one PTX division, say, is many of them."""
    import triton
    tool = Path(triton.__file__).parent / "backends" / "nvidia" / "bin" / "cuobjdump"
    with tempfile.NamedTemporaryFile(suffix=".cubin") as cubin:
        cubin.write(compiled.asm["cubin"])
        cubin.flush()
        usage, sass = (subprocess.run([str(tool), flag, cubin.name], capture_output=True,
                                      text=True, check=True).stdout
                       for flag in ("--dump-resource-usage", "--dump-sass"))
    found = re.search(r"REG:(\d+) STACK:(\d+)", usage)
    # an instruction line: /*0a30*/  @P0 FFMA R3, R4, R5, R6 ;
    machine = re.findall(r"^\s+/\*[0-9a-f]{4}\*/\s+(?:@!?U?P\w+\s+)?[A-Z]", sass, re.M)
    return {"registers": int(found[1]), "stack_bytes": int(found[2]),
            "sass_instructions": len(machine)}


def summarise(compiled) -> dict:
    ptx, ttgir = compiled.asm["ptx"], compiled.asm["ttgir"]
    opcodes = Counter(line.split()[0].split(".")[0] for line in ptx.splitlines()
                      if re.match(r"^\s+[a-z]", line))
    lines = ttgir.splitlines()
    dots = [(i, line) for i, line in enumerate(lines) if "ttng.warp_group_dot " in line]
    waited_at_once = []  # the source variable each such dot's result is named after
    for i, line in dots:
        name = line.split("=")[0].strip()
        after = lines[i + 1] if i + 1 < len(lines) else ""
        if "warp_group_dot_wait" in after and "pendings = 0" in after and name in after:
            waited_at_once.append(re.sub(r"_\d+$", "", name.lstrip("%")))
    return {"instructions": sum(opcodes.values()), "by_opcode": dict(opcodes.most_common()),
            "shuffles": opcodes["shfl"], "barriers": opcodes["bar"], "dots": len(dots),
            "async_dots": sum("isAsync = true" in line for _, line in dots),
            "dots_waited_right_after_issue": waited_at_once,
            "shared_bytes": compiled.metadata.shared, **resources(compiled)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("problem", help="a catalog problem's name, or a problem file")
    ap.add_argument("--config", type=json.loads, default=None,
                    help="configuration (JSON), over the template's default")
    ap.add_argument("--template-source", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    from kernels.library import CATALOG
    path = Path(args.problem) if args.problem.endswith(".py") else \
        CATALOG / f"{args.problem}.py"
    try:
        import triton
        if not path.is_file():
            raise FileNotFoundError(f"no problem {args.problem} (a catalog name or a file)")
        config, launches = recorded_launches(path, args.config, args.template_source)
        kernels = [{"function": launch.name, "options": launch.options,
                    **summarise(compile_for_sm90(launch))} for launch in launches]
    except Exception as err:  # where in the kernel, and the innermost cause, on one line
        cause = err
        while cause.__cause__ is not None:
            cause = cause.__cause__
        where = (str(err).splitlines() or [""])[0]
        said = [line.strip() for line in str(cause).splitlines() if line.strip()] or [""]
        print(f"sm90_offline: {type(err).__name__} {where} {said[-1]}"[:300], file=sys.stderr)
        raise SystemExit(2)
    print(f"{path.stem} for sm_90 with Triton {triton.__version__}, {config}:")
    for k in kernels:
        mix = ", ".join(f"{op} {n}" for op, n in list(k["by_opcode"].items())[:12])
        print(f"  {k['function']} {k['options']}: {k['registers']} registers a thread, "
              f"{k['stack_bytes']} bytes of stack (spills), {k['shared_bytes']} bytes of shared "
              f"memory a program\n"
              f"    {k['sass_instructions']} SASS instructions; "
              f"{k['instructions']} PTX instructions ({mix})\n"
              f"    tensor-core dots: {k['dots']}, {k['async_dots']} asynchronous, waited for "
              f"right after issue: {k['dots_waited_right_after_issue'] or 'none'}")
    if args.json:
        doc = {"problem": path.stem, "config": config, "template_source":
               str(args.template_source) if args.template_source else None,
               "triton": triton.__version__, "target": "cuda sm_90", "commit": commit(),
               "kernels": kernels}
        args.json.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
