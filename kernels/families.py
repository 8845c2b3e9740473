"""Catalog problems as parametric families: a task's spec becomes a problem file of the family
that computes exactly what the task asks, or a reason why none does.

    plan = instantiate(spec)
    plan.outcome   # "planned" | "parked"
    plan.source    # the problem file (KernelBench form) when planned
    plan.params    # every parameter, with the words it came from (or "the family's default")
    plan.reason    # why parked: "asks for fp8; the family computes float32, bfloat16, float16"

A family starts from its catalog file (`problems/<name>.py`) and changes only what the task
names: the dtype, the default input set (the task's sizes), the constructor's width, the
variant (exact or tanh GELU, the linear layer's activation), and SHAPES (the task's other
shapes, then the family's own non-power-of-two and CPU-sized sets). It never answers a
question the task did not ask: a variant, dtype or size outside the family is a parked task.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

CATALOG = Path(__file__).parent / "problems"
CPU_ELEMENTS = 400_000  # a CPU-sized set stays under the harness's interpreter limit
HALF = {"bfloat16", "float16"}
REQUIRED = object()  # a variant the text must state: the family's function depends on it


@dataclass(frozen=True)
class Family:
    problem: str  # the catalog file's stem
    args: tuple  # (get_inputs argument, the size words it takes), in order
    shape_args: tuple | None = None  # what "A x B x C" maps to, in order; None: not accepted
    init: tuple = ()  # arguments the constructor takes too (a weight's width)
    dtypes: frozenset = frozenset({"float32", "bfloat16", "float16"})
    variants: dict = field(default_factory=dict)  # name -> (values it computes, when unstated)
    fixed: dict = field(default_factory=dict)  # size words it cannot change -> its value

    def arg_names(self) -> list[str]:
        return [a for a, _ in self.args]


ROWS = ("rows", "tokens", "batch")
_ROW_COL = (("rows", ROWS), ("cols", ("cols", "width")))
_ROW_WIDTH = (("rows", ROWS), ("width", ("width", "cols")))
FAMILIES = {
    "softmax": Family("softmax", _ROW_COL, ("rows", "cols")),
    "log_softmax": Family("log_softmax", _ROW_COL, ("rows", "cols")),
    "row_sum": Family("row_sum", _ROW_COL, ("rows", "cols")),
    "row_max": Family("row_max", _ROW_COL, ("rows", "cols")),
    "argmax": Family("row_argmax", _ROW_COL, ("rows", "cols")),
    "scan": Family("inclusive_scan", _ROW_COL, ("rows", "cols")),
    "layernorm": Family("layernorm", _ROW_WIDTH, ("rows", "width"), init=("width",),
                        variants={"residual": ({False}, False), "affine": ({True}, True)}),
    "rmsnorm": Family("rmsnorm_residual", _ROW_WIDTH, ("rows", "width"), init=("width",),
                      variants={"residual": ({True}, REQUIRED)}),
    "gelu": Family("bias_gelu", _ROW_WIDTH, ("rows", "width"), init=("width",),
                   variants={"gelu": ({"tanh", "exact"}, "tanh"), "bias": ({True}, REQUIRED)}),
    "swiglu": Family("swiglu", _ROW_WIDTH, ("rows", "width")),
    "cross_entropy": Family("cross_entropy", (("tokens", ROWS), ("vocab", ("vocab", "cols"))),
                            ("tokens", "vocab"), dtypes=frozenset({"float32", "bfloat16"})),
    "kv_quant": Family("kv_quant_int8", (("tokens", ("tokens", "seq", "rows")),
                                         ("heads", ("kv_heads", "heads")),
                                         ("dim", ("head_dim", "width", "cols"))),
                       ("tokens", "heads", "dim"), dtypes=frozenset({"float32"}),
                       variants={"bits": ({8, 4, 3}, REQUIRED)}, fixed={"group": 32}),
    "moe_routing": Family("moe_top2_routing", (("tokens", ROWS), ("experts", ("experts",))),
                          ("tokens", "experts"), dtypes=frozenset({"float32"}),
                          variants={"top_k": ({2}, 2)}),
    "matmul": Family("matmul_bias_gelu", (("tokens", ROWS), ("in_features", ("width",)),
                                          ("out_features", ())),
                     ("tokens", "in_features", "out_features"), dtypes=frozenset(HALF),
                     variants={"activation": ({"gelu", "silu", "relu", "none"}, "none"),
                               "gelu": ({"tanh", "exact"}, "tanh"), "bias": ({True}, True)}),
    "attention": Family("gqa_causal_attention", (("batch", ("batch",)), ("seq", ("seq", "tokens")),
                                                 ("q_heads", ("q_heads", "heads")),
                                                 ("kv_heads", ("kv_heads",)),
                                                 ("head_dim", ("head_dim",))),
                        None, dtypes=frozenset(HALF),
                        variants={"causal": ({True}, True)}),
}
NO_FAMILY_NOTE = {
    "silu": "SiLU alone; the catalog's family computes silu(a) * b (SwiGLU)",
    "relu": "ReLU alone; no catalog family computes it (a linear layer's ReLU epilogue is "
            "the matmul family)",
}


@dataclass
class Planned:
    outcome: str  # planned | parked
    family: str | None = None
    source: str = ""
    params: dict = field(default_factory=dict)  # name -> {"value": ..., "from": words}
    reason: str = ""


def instantiate(spec) -> Planned:
    """The problem the task asks for, or why the catalog cannot pose it."""
    family = FAMILIES.get(spec.op)
    if family is None:
        what = NO_FAMILY_NOTE.get(spec.op, f"{spec.op}; no catalog family computes it")
        return Planned("parked", reason=f"asks for {what}")
    if spec.op == "kv_quant" and spec.variants.get("bits") in (8, 4, 3):
        family = Family(f"kv_quant_int{spec.variants['bits']}", family.args, family.shape_args,
                        dtypes=family.dtypes, variants=family.variants, fixed=family.fixed)
    params: dict = {}
    try:
        _check_dtype(family, spec, params)
        _check_variants(family, spec, params)
        default, extra = _sizes(family, spec, params)
    except _Refused as why:
        return Planned("parked", family.problem, reason=str(why))
    source = _write(family, spec, params, default, extra)
    return Planned("planned", family.problem, source, params,
                   f"catalog family `{family.problem}` posed with the task's parameters")


class _Refused(Exception):
    pass


def _catalog(family: Family) -> str:
    return (CATALOG / f"{family.problem}.py").read_text(encoding="utf-8")


def _catalog_dtype(source: str) -> str:
    return re.search(r"^DTYPE = torch\.(\w+)", source, re.MULTILINE).group(1)


def _check_dtype(family: Family, spec, params: dict) -> None:
    own = _catalog_dtype(_catalog(family))
    if spec.dtype is None:
        params["dtype"] = {"value": own, "from": "not named: the family's default"}
        return
    if spec.dtype not in family.dtypes:
        raise _Refused(f"asks for {spec.dtype} ('{spec.words['dtype']}'); the catalog family "
                       f"`{family.problem}` computes {', '.join(sorted(family.dtypes))}")
    params["dtype"] = {"value": spec.dtype, "from": spec.words["dtype"]}


def _check_variants(family: Family, spec, params: dict) -> None:
    for name, (allowed, unstated) in family.variants.items():
        if name in spec.variants:
            value = spec.variants[name]
            if value not in allowed:
                raise _Refused(f"asks for {name} = {value} ('{spec.words.get(name)}'); the "
                               f"catalog family `{family.problem}` computes {name} = "
                               f"{' or '.join(map(str, sorted(allowed, key=str)))}")
            params[name] = {"value": value, "from": spec.words.get(name, "")}
        elif unstated is REQUIRED:
            need = next(iter(allowed)) if len(allowed) == 1 else " or ".join(
                map(str, sorted(allowed, key=str)))
            raise _Refused(f"does not say {name}; the catalog family `{family.problem}` "
                           f"computes {name} = {need}, which is another function")
        else:
            params[name] = {"value": unstated, "from": "not stated: the family's default"}
    if params.get("activation", {}).get("value") not in (None, "gelu"):
        params.pop("gelu", None)  # which GELU does not matter to a SiLU or ReLU epilogue
    for name, value in spec.variants.items():
        if name not in family.variants and name not in ("grouped", "kv_heads_rule"):
            raise _Refused(f"asks for {name} = {value} ('{spec.words.get(name)}'), which the "
                           f"catalog family `{family.problem}` has no way to vary")


def _defaults(source: str) -> dict:
    tree = ast.parse(source)
    fn = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "get_inputs")
    names = [a.arg for a in fn.args.args]
    return dict(zip(names[len(names) - len(fn.args.defaults):],
                    (ast.literal_eval(d) for d in fn.args.defaults)))


def _sizes(family: Family, spec, params: dict) -> tuple[dict, list[dict]]:
    """The default input set (the family's, with the task's sizes in) and the task's other
    shapes, as argument dicts."""
    default = _defaults(_catalog(family))
    for word, value in family.fixed.items():
        if word in spec.sizes and spec.sizes[word] != value:
            raise _Refused(f"asks for {word} {spec.sizes[word]} ('{spec.words[word]}'); the "
                           f"catalog family `{family.problem}` fixes {word} = {value}")
    used = set(family.fixed)
    for arg, words in family.args:
        for word in words:
            if word in spec.sizes:
                default[arg] = spec.sizes[word]
                params[arg] = {"value": spec.sizes[word], "from": spec.words[word]}
                used.add(word)
                break
    if spec.op == "attention" and "kv_heads" not in spec.sizes and \
            spec.variants.get("kv_heads_rule"):
        default["kv_heads"] = 1
        params["kv_heads"] = {"value": 1, "from": spec.words["kv_heads_rule"]}
    unknown = [w for w in spec.sizes if w not in used]
    if unknown:
        raise _Refused("names sizes the catalog family `{}` has no place for: {}".format(
            family.problem, ", ".join(f"{w} = {spec.sizes[w]} ('{spec.words[w]}')"
                                      for w in unknown)))
    shapes = []
    if spec.shapes:
        if family.shape_args is None:
            raise _Refused(f"writes sizes as {spec.words['shapes']!r}; for `{family.problem}` "
                           f"name them ({', '.join(family.arg_names())})")
        for shape in spec.shapes:
            if len(shape) > len(family.shape_args):
                raise _Refused(f"names a {len(shape)}-dimensional shape "
                               f"{'x'.join(map(str, shape))}; `{family.problem}` takes "
                               f"{' x '.join(family.shape_args)}")
            shapes.append({**default, **dict(zip(family.shape_args, shape))})
        default = shapes.pop(0)
        for arg in family.shape_args[:len(spec.shapes[0])]:
            params[arg] = {"value": default[arg], "from": spec.words["shapes"]}
    for arg in family.init:
        widths = {s[arg] for s in [default, *shapes]}
        if len(widths) > 1:
            raise _Refused(f"names {len(widths)} {arg}s ({', '.join(map(str, sorted(widths)))});"
                           f" one problem of `{family.problem}` has one {arg} (its weight's): "
                           "split the task")
    for arg in family.arg_names():
        params.setdefault(arg, {"value": default[arg], "from": "not named: the family's default"})
    _check_sizes(family, spec, default, shapes)
    return default, shapes


def _check_sizes(family: Family, spec, default: dict, shapes: list[dict]) -> None:
    for sizes in [default, *shapes]:
        if family.problem.startswith("kv_quant") and \
                sizes["tokens"] * sizes["heads"] * sizes["dim"] % family.fixed["group"]:
            raise _Refused(f"sizes {sizes} are not whole groups of {family.fixed['group']}")
        if spec.op == "attention":
            if sizes["q_heads"] % sizes["kv_heads"]:
                raise _Refused(f"{sizes['q_heads']} query heads cannot share "
                               f"{sizes['kv_heads']} KV heads evenly")
            dim = sizes["head_dim"]
            if dim < 16 or dim & (dim - 1):
                raise _Refused(f"head dim {dim}: the family's kernel takes powers of two >= 16")


def _write(family: Family, spec, params: dict, default: dict, shapes: list[dict]) -> str:
    source = _catalog(family)
    names = family.arg_names()
    dtype = params["dtype"]["value"]
    if dtype != _catalog_dtype(source):
        source = re.sub(r"^DTYPE = torch\.\w+", f"DTYPE = torch.{dtype}", source, flags=re.M)
        if dtype in HALF:  # one rounding of a 16-bit result: 2^-8 relative
            source = re.sub(r"^ATOL, RTOL = .*$", "ATOL, RTOL = 2e-2, 2e-2", source, flags=re.M)
    signature = ", ".join(f"{n}={default[n]}" for n in names)
    source = re.sub(r"^def get_inputs\(.*\):", f"def get_inputs({signature}):", source,
                    flags=re.M)
    if family.init:
        source = re.sub(r"(def get_init_inputs\(\):\n    return )\[.*\]",
                        lambda m: m.group(1) + f"[{default[family.init[0]]}]", source)
    if params.get("gelu", {}).get("value") == "exact":
        source = source.replace(', approximate="tanh"', "").replace(
            "tanh-approximated GELU", "exact (erf) GELU").replace("tanh-GELU", "exact GELU")
    if family.problem == "matmul_bias_gelu":
        source = _activation(source, params["activation"]["value"],
                             params.get("gelu", {}).get("value"))
    sets = [tuple(s[n] for n in names) for s in shapes] + _own_sets(family, source, default)
    unique = []
    for s in sets:
        if s != tuple(default[n] for n in names) and s not in unique:
            unique.append(s)
    source = re.sub(r"^SHAPES = \[.*?\](?:[^\n]*)(?:\n#[^\n]*)*", f"SHAPES = {unique!r}",
                    source, flags=re.M | re.S)
    lines = "\n".join(f"  {k} = {v['value']}  <- {v['from']}" for k, v in params.items())
    header = f'"""Planned by autodocket from a docket task, in the catalog family ' \
             f'`{family.problem}`:\n{lines}\n\n'
    return header + source.lstrip().removeprefix('"""')


def _activation(source: str, activation: str, gelu: str) -> str:
    linear = "F.linear(x, weight, bias)"
    call = {"none": linear, "silu": f"F.silu({linear})", "relu": f"F.relu({linear})",
            "gelu": f"F.gelu({linear})" if gelu == "exact"
            else f'F.gelu({linear}, approximate="tanh")'}[activation]
    source = source.replace(f'F.gelu({linear}, approximate="tanh")', call)
    name = "" if activation == "none" else f"{activation}"
    source = source.replace("gelu(x @ W^T + b)", f"{name}(x @ W^T + b)" if name else
                            "x @ W^T + b")
    return source.replace("fused bias + tanh-GELU epilogue", "fused bias" + (
        f" + {activation}" + (f" ({gelu})" if activation == "gelu" else "") + " epilogue"
        if name else ", no activation"))


def _own_sets(family: Family, source: str, default: dict) -> list[tuple]:
    """The family's own extra input sets (its non-power-of-two and CPU-sized ones), with the
    constructor's width where the task fixed it, and one CPU-sized set guaranteed."""
    found = re.search(r"^SHAPES = (\[.*?\])", source, re.M | re.S)
    own = ast.literal_eval(found.group(1)) if found else []
    names = family.arg_names()
    out = []
    for values in own:
        sizes = {**default, **dict(zip(names, values))}
        for arg in family.init:
            sizes[arg] = default[arg]
        out.append(tuple(sizes[n] for n in names))
    if not any(_elements(family, dict(zip(names, s))) <= CPU_ELEMENTS for s in out):
        small = dict(default)
        for arg in names[:1]:  # shrink the leading (row-like) size until it fits
            while small[arg] > 1 and _elements(family, small) > CPU_ELEMENTS:
                small[arg] = max(1, small[arg] // 4)
        if _elements(family, small) <= CPU_ELEMENTS:
            out.append(tuple(small[n] for n in names))
    return out


def _elements(family: Family, sizes: dict) -> int:
    """Input elements of one set, roughly: what the interpreter's limit counts."""
    values = list(sizes.values())
    if family.problem == "gqa_causal_attention":
        return sizes["batch"] * sizes["seq"] * sizes["head_dim"] * (sizes["q_heads"]
                                                                   + 2 * sizes["kv_heads"])
    if family.problem == "matmul_bias_gelu":
        return sizes["tokens"] * sizes["in_features"] + sizes["in_features"] * \
            sizes["out_features"]
    product = 1
    for v in values:
        product *= v
    return product
