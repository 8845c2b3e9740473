"""What a template's kernel compiles to for Hopper (sm_90: H100, H200), on a machine without a GPU.

    python benchmarks/sm90_offline.py moe|int3|int4|int8|attention [--config JSON]
        [--template-source FILE] [--json OUT]

Triton's bundled ptxas compiles for sm_90 without a driver, so the code of a candidate can be
read before a GPU session: the PTX instruction count and mix (an instruction-bound kernel such as
MoE routing is as fast as its instructions per element allow), shuffles and barriers, and for
the tensor-core dots (`warp_group_dot`) how many are asynchronous and which the compiler waits
for right after issuing them with no dot left pending (nothing overlaps those; named after the
source variable they compute).
`--template-source` renders from another copy of the template module (an earlier commit's:
`git show REV:kernels/templates/attention.py > FILE`). Registers and stack bytes a thread (where
spills go) come from the cubin, as the bundled cuobjdump reads them. The counts are those of
the Triton that runs this script: the GPU machine's is 3.6 (2026-12), this machine's 3.9. For
3.6's code, install it beside the project's and put it first on the path:

    pip download triton==3.6.0 --no-deps -d /tmp/w
    pip install --no-deps --target /tmp/t36 /tmp/w/*.whl
    PYTHONPATH=/tmp/t36 python benchmarks/sm90_offline.py attention

so compiled, the attention preset (its tiles by TMA, as on the default set) gave the registers
and spills ncu read on the H200 for the same three configurations (255 registers and 24 bytes
spilled at 4 warps 128x64, 140 at 8 warps, 187 at 8 warps 128x128:
benchmarks/measured/h200-profile-attention-2026-12-03.txt). Never a timing.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.provenance import commit  # noqa: E402

# floating-point contraction on, as Triton before 3.10 does by default (the GPU machine's 3.6)
os.environ.setdefault("TRITON_DEFAULT_FP_FUSION", "1")

# per kernel: its template, the function compiled, the default configuration, the argument
# types and the constexprs of the default input set; pointers 16-byte aligned and integers
# divisible by 16 but those named in "odd" (as Triton specialises the default set's launch)
PRESETS = {
    "moe": {
        "template": "moe_routing", "function": "route_top2",
        "config": {"TOKENS": 32, "num_warps": 4, "BLOCKS": 1},
        "signature": {"logits_ptr": "*fp32", "weights_ptr": "*fp32", "experts_ptr": "*i64",
                      "hits_ptr": "*i32", "prob_sum_ptr": "*fp32", "n_tokens": "i32",
                      "n_experts": "i32", "stride": "i32"},
        "constexprs": lambda c: {"TOKENS": c["TOKENS"], "EXPERTS": 64, "BLOCKS": c["BLOCKS"],
                                 "PADDED": False, "RAGGED": False},
    },
    "int3": {
        "template": "quant_int3", "function": "int3_roundtrip",
        "config": {"GROUPS": 64, "num_warps": 4},
        "signature": {"x_ptr": "*fp32", "planes_ptr": "*i32", "scale_ptr": "*fp32",
                      "deq_ptr": "*fp32", "n_groups": "i32"},
        "constexprs": lambda c: {"GROUPS": c["GROUPS"]},
    },
    **{f"int{bits}": {
        "template": "quant_int", "function": "quant_roundtrip", "ops": ops,
        "config": {"GROUPS": 64, "num_warps": 4},
        "signature": {"x_ptr": "*fp32", "codes_ptr": codes, "scale_ptr": "*fp32",
                      "deq_ptr": "*fp32", "n_groups": "i32"},
        "constexprs": lambda c, bits=bits: {"GROUPS": c["GROUPS"], "BITS": bits},
    } for bits, codes, ops in ((8, "*i8", set()), (4, "*u8", {"lshift"}))},
    "attention": {
        "template": "attention", "function": "causal_gqa_fwd",
        "config": {"BLOCK_M": 128, "BLOCK_N": 64, "num_warps": 4, "num_stages": 2,
                   "HEADS_FIRST": 0, "LAZY_RESCALE": 0, "RAGGED_TMA": 1, "PERSISTENT": 0,
                   "MAXNREG": 0},
        # the default set's tiles by TMA over the flattened rows (TMA 1): a descriptor per
        # tensor, its block the rows of the tile
        "odd": {"kv_heads"},  # 8 KV heads on the default set
        "signature": lambda c: dict(
            {f"{t}_src": f"tensordesc<bf16[{rows}, 128]>" for t, rows in
             zip("qkvo", (c["BLOCK_M"], c["BLOCK_N"], c["BLOCK_N"], c["BLOCK_M"]))},
            sm_scale="fp32", **{n: "i32" for n in (
                "seq", "q_heads", "kv_heads", "n_bh", "sqb", "sqh", "sqs", "skb", "skh", "sks",
                "svb", "svh", "svs", "sob", "soh", "sos")}),
        "constexprs": lambda c: {"BLOCK_M": c["BLOCK_M"], "BLOCK_N": c["BLOCK_N"],
                                 "HEAD_DIM": 128, "TMA": 1, **{
                                     k: v for k, v in c.items()
                                     if k not in ("BLOCK_M", "BLOCK_N", "num_warps",
                                                  "num_stages", "RAGGED_TMA", "MAXNREG")}},
    },
}


def _module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compile_for_sm90(preset: dict, config: dict, template_source: Path | None):
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    from kernels.library import templates
    template = _module(template_source, "template_copy") if template_source else next(
        t for t in templates() if t.FAMILY == preset["template"])
    with tempfile.TemporaryDirectory() as scratch:
        kernel = Path(scratch) / "kernel.py"
        kernel.write_text(template.render(config, preset.get("ops", set())))
        fn = getattr(_module(kernel, "kernel"), preset["function"])
    constexprs = preset["constexprs"](config)
    types = preset["signature"](config) if callable(preset["signature"]) else preset["signature"]
    signature = {name: types.get(name, "constexpr") for name in fn.arg_names}
    aligned = {(i,): [["tt.divisibility", 16]] for i, name in enumerate(fn.arg_names)
               if (signature[name][0] == "*" or signature[name] == "i32") and
               name not in preset.get("odd", ())}
    return triton.compile(ASTSource(fn, signature, constexprs, aligned),
                          target=GPUTarget("cuda", 90, 32),
                          options={"num_warps": config.get("num_warps", 4),
                                   "num_stages": config.get("num_stages", 3),
                                   **({"maxnreg": config["MAXNREG"]} if config.get("MAXNREG")
                                      else {})})


def resources(compiled) -> dict:
    """Registers a thread and stack bytes a thread (spilled registers live there) of the cubin,
    as the bundled cuobjdump reads them: what ncu's launch statistics show on the GPU."""
    import triton
    tool = Path(triton.__file__).parent / "backends" / "nvidia" / "bin" / "cuobjdump"
    with tempfile.NamedTemporaryFile(suffix=".cubin") as cubin:
        cubin.write(compiled.asm["cubin"])
        cubin.flush()
        usage = subprocess.run([str(tool), "--dump-resource-usage", cubin.name],
                               capture_output=True, text=True, check=True).stdout
    found = re.search(r"REG:(\d+) STACK:(\d+)", usage)
    return {"registers": int(found[1]), "stack_bytes": int(found[2])}


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
            "dots_waited_right_after_issue": waited_at_once, **resources(compiled)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("kernel", choices=sorted(PRESETS))
    ap.add_argument("--config", type=json.loads, default=None,
                    help="configuration (JSON), over the preset's default")
    ap.add_argument("--template-source", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    preset = PRESETS[args.kernel]
    config = {**preset["config"], **(args.config or {})}
    try:
        import triton
        summary = summarise(compile_for_sm90(preset, config, args.template_source))
    except Exception as err:  # where in the kernel, and the innermost cause, on one line
        cause = err
        while cause.__cause__ is not None:
            cause = cause.__cause__
        where = (str(err).splitlines() or [""])[0]
        said = [line.strip() for line in str(cause).splitlines() if line.strip()] or [""]
        print(f"sm90_offline: {type(err).__name__} {where} {said[-1]}"[:300], file=sys.stderr)
        raise SystemExit(2)
    doc = {"kernel": args.kernel, "function": preset["function"], "config": config,
           "template_source": str(args.template_source) if args.template_source else None,
           "triton": triton.__version__, "target": "cuda sm_90", "commit": commit(), **summary}
    mix = ", ".join(f"{k} {v}" for k, v in list(summary["by_opcode"].items())[:12])
    print(f"{args.kernel} ({preset['function']}) for sm_90 with Triton {triton.__version__}, "
          f"{config}:\n  {summary['registers']} registers a thread, "
          f"{summary['stack_bytes']} bytes of stack (spills)\n"
          f"  {summary['instructions']} PTX instructions ({mix})\n"
          f"  tensor-core dots: {summary['dots']}, {summary['async_dots']} asynchronous, "
          f"waited for right after issue: {summary['dots_waited_right_after_issue'] or 'none'}")
    if args.json:
        args.json.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
