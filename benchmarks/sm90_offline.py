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
`git show REV:kernels/templates/attention.py > FILE`). This machine's Triton (3.9 on the CPU
machine, 3.6 on the H200 in 2026-12) is not necessarily the GPU machine's: the counts are a proxy
for its code, never a timing.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
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
        # pointer loads (TMA 0): a host-side descriptor needs the driver to be encoded
        "odd": {"kv_heads"},  # 8 KV heads on the default set
        "signature": dict({f"{t}_src": "*bf16" for t in "qkvo"}, sm_scale="fp32",
                          **{n: "i32" for n in ("seq", "q_heads", "kv_heads", "n_bh", "sqb",
                                                "sqh", "sqs", "skb", "skh", "sks", "svb",
                                                "svh", "svs", "sob", "soh", "sos")}),
        "constexprs": lambda c: {"BLOCK_M": c["BLOCK_M"], "BLOCK_N": c["BLOCK_N"],
                                 "HEAD_DIM": 128, "TMA": 0, **{
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
    signature = {name: preset["signature"].get(name, "constexpr") for name in fn.arg_names}
    aligned = {(i,): [["tt.divisibility", 16]] for i, name in enumerate(fn.arg_names)
               if signature[name] not in ("constexpr", "fp32") and
               name not in preset.get("odd", ())}
    return triton.compile(ASTSource(fn, signature, constexprs, aligned),
                          target=GPUTarget("cuda", 90, 32),
                          options={"num_warps": config.get("num_warps", 4),
                                   "num_stages": config.get("num_stages", 3),
                                   **({"maxnreg": config["MAXNREG"]} if config.get("MAXNREG")
                                      else {})})


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
            "dots_waited_right_after_issue": waited_at_once}


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
          f"{config}:\n  {summary['instructions']} PTX instructions ({mix})\n"
          f"  tensor-core dots: {summary['dots']}, {summary['async_dots']} asynchronous, "
          f"waited for right after issue: {summary['dots_waited_right_after_issue'] or 'none'}")
    if args.json:
        args.json.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
