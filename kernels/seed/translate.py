"""Inductor's output module (text, from `tools.inductor_seed`) into a standalone candidate:
the `@triton.jit` kernels, the helpers they call (`kernels.seed.helpers`), one launcher per
kernel with its grid and block sizes, and a `ModelNew` whose forward does what Inductor's `call`
did (allocate, launch), reading its inputs from the forward arguments, their sizes, and the
reference's parameters by name (the harness copies them in).

Only parsed here, never run: the text comes from a sandbox that ran the problem's code.
Anything that is not one of our kernels (a call Inductor leaves to cuBLAS or aten, a C++ kernel)
raises `NotCovered` with what it was.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from tools.bench.static import dotted_name

from .helpers import HELPERS, INTERPRETED_MATH, PORTABLE_LIBDEVICE, RENAMED, helpers_needed


class NotCovered(ValueError):
    """The generated code does something that is not a Triton kernel of ours."""


BLOCKS = {"XBLOCK": "xnumel", "YBLOCK": "ynumel", "ZBLOCK": "znumel", "R0_BLOCK": "r0_numel",
          "R1_BLOCK": "r1_numel"}
_DROPPED_CALLS = {"assert_size_stride", "assert_alignment", "get_raw_stream",
                  "torch.cuda.set_device", "torch.cuda._DeviceGuard", "args.clear"}
_ALLOCATORS = {"empty_strided_cpu", "empty_strided_cuda", "empty_strided"}


@dataclass
class Kernel:
    name: str
    source: str  # the kernel and the jit functions beside it, rewritten
    params: list[str]  # run-time arguments, in order
    constexprs: list[str]  # block sizes the launcher chooses
    kind: str  # pointwise | persistent | reduction
    axes: dict[str, tuple[int, str | None]] = field(default_factory=dict)  # x -> (grid axis, block)
    fixed: dict[str, int] = field(default_factory=dict)  # block sizes set in the body
    # dimensions the kernel never masks (Inductor proved its block sizes divide them): ours
    # must divide them too
    unmasked: set[str] = field(default_factory=set)


class _KernelRewrite(ast.NodeTransformer):
    """Inductor's runtime names into this file's: helpers, libdevice, tl_math."""

    def __init__(self, device: str):
        self.device = device
        self.helpers: set[str] = set()
        self.portable: set[str] = set()

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        owner = node.value.id if isinstance(node.value, ast.Name) else None
        if owner == "triton_helpers":
            name = RENAMED.get(node.attr, node.attr)
            if name not in HELPERS:
                raise NotCovered(f"Inductor's helper {node.attr} has no form here")
            self.helpers.add(name)
            return ast.copy_location(ast.Name(name, ast.Load()), node)
        if owner == "tl_math":
            return ast.copy_location(ast.parse(f"tl.math.{node.attr}", mode="eval").body, node)
        if owner == "libdevice" and self.device == "cpu":
            if node.attr in INTERPRETED_MATH:
                return ast.copy_location(ast.parse(f"tl.math.{node.attr}", mode="eval").body,
                                         node)
            if node.attr in PORTABLE_LIBDEVICE:
                self.portable.add(node.attr)
                return ast.copy_location(ast.Name(f"libdevice_{node.attr}", ast.Load()), node)
            raise NotCovered(f"libdevice.{node.attr} has no CPU-interpreter form here")
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        # `xmask = tl.full([XBLOCK], True, tl.int1)`: Inductor drops a mask where its own
        # block sizes divide the size; ours may not, so every mask is a real one
        self.generic_visit(node)
        target = node.targets[0]
        if isinstance(target, ast.Name) and target.id.endswith("mask") and \
                isinstance(node.value, ast.Call) and dotted_name(node.value.func) == "tl.full" and \
                len(node.value.args) >= 2 and getattr(node.value.args[1], "value", None) is True:
            prefix = target.id[:-len("mask")]
            if prefix in ("x", "y", "z", "r0_", "r1_"):
                return ast.copy_location(ast.parse(
                    f"{target.id} = {prefix}index < {prefix}numel").body[0], node)
        return node


def parse_kernel(name: str, source: str, device: str) -> tuple[Kernel, set[str], set[str]]:
    tree = ast.parse(source)
    rewrite = _KernelRewrite(device)
    functions = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Expr):
            continue  # a docstring, or the runtime's driver set-up: nothing a kernel needs
        if not isinstance(node, ast.FunctionDef):
            raise NotCovered(f"kernel {name}: top-level {type(node).__name__} in its source")
        if not any("jit" in dotted_name(d.func if isinstance(d, ast.Call) else d)
                   for d in node.decorator_list):
            raise NotCovered(f"kernel {name}: {node.name} is not a @triton.jit function")
        node.decorator_list = [ast.parse("triton.jit", mode="eval").body]
        functions.append(rewrite.visit(node))
    main = next((f for f in functions if f.name == name), None)
    if main is None:
        raise NotCovered(f"kernel {name}: its source defines no function of that name")
    params, constexprs = [], []
    for arg in main.args.args:
        annotation = ast.unparse(arg.annotation) if arg.annotation else ""
        (constexprs if "constexpr" in annotation else params).append(arg.arg)
    unknown = [c for c in constexprs if c not in BLOCKS]
    if unknown:
        raise NotCovered(f"kernel {name}: compile-time parameters {unknown}")
    kind = {"triton_poi": "pointwise", "triton_per": "persistent",
            "triton_red": "reduction"}.get("_".join(name.split("_")[:2]))
    if kind is None:
        raise NotCovered(f"kernel {name}: a kind of kernel the seed does not launch "
                         "(a GEMM or convolution template, a scan or a sort)")
    kernel = Kernel(name, "\n\n".join(ast.unparse(f) for f in functions), params, constexprs,
                    kind)
    kernel.fixed = {n.target.id: n.value.value for n in ast.walk(main)
                    if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
                    and isinstance(n.value, ast.Constant) and isinstance(n.value.value, int)}
    kernel.axes = _grid_axes(main, name, kernel.fixed)
    masks = " ".join(_access_mask(n) for n in ast.walk(main) if _is_access(n))
    kernel.unmasked = {numel.replace("numel", "") for block, numel in BLOCKS.items()
                       if block in kernel.constexprs
                       and f"{numel.replace('numel', '')}mask" not in masks}
    return kernel, rewrite.helpers, rewrite.portable


def _is_access(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and dotted_name(node.func) in ("tl.load", "tl.store")


def _access_mask(node: ast.Call) -> str:
    """A load's or store's mask as text ("None" where it has none). A dimension whose mask
    no access uses is one Inductor's block sizes divide: ours must divide it too."""
    position = 1 if dotted_name(node.func) == "tl.load" else 2
    mask = node.args[position] if len(node.args) > position else next(
        (k.value for k in node.keywords if k.arg == "mask"), None)
    return "None" if mask is None else ast.unparse(mask)


def _grid_axes(main: ast.FunctionDef, name: str,
               fixed: dict[str, int]) -> dict[str, tuple[int, str | None]]:
    """For each of x, y, z the kernel tiles: the grid axis that walks it (-1: y folded over
    axes 1 and 2) and the block size (a parameter name, a number fixed in the body, or None
    for one element a program)."""
    axes = {}
    for node in main.body:
        if not (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and
                node.targets[0].id in ("xoffset", "yoffset", "zoffset")):
            continue
        dim = node.targets[0].id[0]
        # Inductor computes the offset in 64 bits where an index may pass 2^31 (large sets on
        # a GPU): the same grid
        text = ast.unparse(node.value).replace(" ", "").replace(".to(tl.int64)", "")
        # a y grid too long for one axis: Inductor folds it over axes 1 and 2
        if re.fullmatch(r"\(tl\.program_id\(1\)\+tl\.program_id\(2\)\*tl\.num_programs\(1\)\)"
                        r"\*YBLOCK", text) and dim == "y":
            axes[dim] = (-1, "YBLOCK")
            continue
        match = re.fullmatch(r"tl\.program_id\((\d)\)(?:\*(\w+))?", text)
        if not match:
            raise NotCovered(f"kernel {name}: {dim}offset = {text} (a grid the seed does not "
                             "lay out)")
        block = match.group(2)
        if block is not None and block not in BLOCKS:
            raise NotCovered(f"kernel {name}: block {block}")
        axes[dim] = (int(match.group(1)), str(fixed[block]) if block in fixed else block)
    if "x" not in axes:
        raise NotCovered(f"kernel {name}: no xoffset")
    return axes


@dataclass
class Generated:
    kernels: dict[str, Kernel]
    helpers: set[str]
    portable: set[str]
    call: ast.FunctionDef


def parse_module(code: str, device: str) -> Generated:
    tree = ast.parse(code)
    kernels, helpers, portable, call = {}, set(), set(), None
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = dotted_name(node.value.func)
            if func.startswith("async_compile."):
                if func != "async_compile.triton":
                    raise NotCovered(f"Inductor wrote a {func.split('.', 1)[1]} kernel "
                                     "(not Triton)")
                name = node.value.args[0].value
                kernel, used, lib = parse_kernel(name, node.value.args[1].value, device)
                kernels[name] = kernel
                helpers |= used
                portable |= lib
        elif isinstance(node, ast.FunctionDef) and node.name == "call":
            call = node
    if call is None:
        raise NotCovered("Inductor's module has no call()")
    return Generated(kernels, helpers, portable, call)


# -- the forward --------------------------------------------------------------------------

_ARG = re.compile(r"L\['(\w+)'\]")
_SIZE = re.compile(r"L\['(\w+)'\]\.(size|stride)\(\)\[(\d+)\]")
_OFFSET = re.compile(r"L\['(\w+)'\]\.storage_offset\(\)")
_ATTRIBUTE = re.compile(r"L\['self'\](?:\._modules\['[^']+'\])*(?:\.\w+)+")
_STATE = re.compile(r"L\['self'\]((?:\._modules\['[^']+'\])*)\._(parameters|buffers)\['([^']+)'\]")


@dataclass
class State:
    path: list[str]
    leaf: str
    kind: str  # parameters | buffers
    shape: list[str]
    dtype: str

    @property
    def dotted(self) -> str:
        return ".".join(self.path + [self.leaf])

    def access(self) -> str:
        names = self.path + [self.leaf]
        if all(n.isidentifier() for n in names):
            return "self." + ".".join(names)
        getter = "get_parameter" if self.kind == "parameters" else "get_buffer"
        return f"self.{getter}({self.dotted!r})"


def input_expression(entry: dict, forward_args: list[str]) -> tuple[str, State | None]:
    """Where one of the graph's inputs comes from, as an expression in forward."""
    source = entry.get("source") or ""
    for pattern in (_ARG, _SIZE, _OFFSET):
        match = pattern.fullmatch(source)
        if match and match.group(1) in forward_args:
            arg = match.group(1)
            if pattern is _ARG:
                return arg, None
            if pattern is _OFFSET:
                return f"{arg}.storage_offset()", None
            return f"{arg}.{match.group(2)}({match.group(3)})", None
    match = _ATTRIBUTE.fullmatch(source)
    if match and isinstance(entry.get("value"), (int, float, bool)):
        # a number the model was built with (self.eps): fixed by the same constructor
        return repr(entry["value"]), None
    match = _STATE.fullmatch(source)
    if match and entry.get("kind") == "tensor":
        path = re.findall(r"\['([^']+)'\]", match.group(1))
        state = State(path, match.group(3), match.group(2), entry["shape"], entry["dtype"])
        return state.access(), state
    raise NotCovered(f"a graph input comes from {source or entry.get('name')!r}, which a "
                     "candidate cannot read")


class _CallRewrite(ast.NodeTransformer):
    """Inductor's call() body into forward's: allocations through torch, launches through
    this file's launchers, checks and stream bookkeeping dropped, nothing else allowed."""

    def __init__(self, kernels: dict[str, Kernel], device_expr: str):
        self.kernels = kernels
        self.device_expr = device_expr

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = dotted_name(node.func)
        if func in _ALLOCATORS:
            size, stride, dtype = node.args[:3]
            return ast.copy_location(ast.parse(
                f"torch.empty_strided({ast.unparse(size)}, {ast.unparse(stride)}, "
                f"dtype={ast.unparse(dtype)}, device={self.device_expr})", mode="eval").body, node)
        if func == "reinterpret_tensor":
            args = ", ".join(ast.unparse(a) for a in node.args)
            return ast.copy_location(ast.parse(f"torch.as_strided({args})", mode="eval").body,
                                     node)
        if func.endswith(".run") and func[:-4] in self.kernels:
            node.func = ast.Name(f"launch_{func[:-4]}", ast.Load())
            node.keywords = [k for k in node.keywords if k.arg != "stream"]
            return node
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("zero_", "size",
                                                                       "stride", "item"):
            return node
        if func in ("max", "min") or \
                func.startswith(("launch_", "torch.empty_strided", "torch.as_strided")):
            return node
        raise NotCovered(f"Inductor's code calls {func or ast.unparse(node.func)}: not a "
                         "kernel of ours (cuBLAS, aten or a fallback)")


def _statements(body: list[ast.stmt], names: list[str]) -> list[ast.stmt]:
    out = []
    for node in body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Name) and \
                node.value.id == "args":
            names.extend(ast.unparse(t) for t in node.targets[0].elts)
            continue
        if isinstance(node, ast.Delete):
            continue
        call = getattr(node, "value", None)
        if isinstance(node, (ast.Expr, ast.Assign)) and isinstance(call, ast.Call) and \
                dotted_name(call.func) in _DROPPED_CALLS:
            continue
        if isinstance(node, ast.With):
            if not all(dotted_name(i.context_expr.func if isinstance(i.context_expr, ast.Call)
                               else i.context_expr) in _DROPPED_CALLS for i in node.items):
                raise NotCovered(f"Inductor's code: {ast.unparse(node).splitlines()[0]}")
            out += _statements(node.body, names)
            continue
        if isinstance(node, ast.If) and all(isinstance(n, ast.Raise) for n in node.body) \
                and not node.orelse:
            continue  # a guard on sizes; the harness's input sets check what it guarded
        if not isinstance(node, (ast.Assign, ast.Expr, ast.Return, ast.AnnAssign)):
            raise NotCovered(f"Inductor's code: {ast.unparse(node).splitlines()[0]}")
        out.append(node)
    return out


# -- launchers ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Tuning:
    """One configuration of every launcher of a seed: Inductor-like block sizes by kernel kind
    (elements a program holds, caps on rows per program and on a reduction's block, warps)."""
    tile: int = 4096
    pointwise_block: int = 1024
    rows_cap: int = 8
    reduction_cap: int = 1024
    pointwise_warps: int = 4
    reduction_warps: int = 8
    # Inductor's own matrix products (tl.dot): an output tile of dot_block x dot_block, dot_k
    # of the sum a step, software-pipelined over dot_stages
    dot_block: int = 64
    dot_k: int = 32
    dot_warps: int = 4
    dot_stages: int = 3

    def label(self) -> str:
        return (f"pointwise {self.pointwise_block}/{self.pointwise_warps}w, reductions "
                f"tile {self.tile}, rows <= {self.rows_cap}, block <= {self.reduction_cap}, "
                f"{self.reduction_warps}w, products {self.dot_block}x{self.dot_block}x"
                f"{self.dot_k}/{self.dot_warps}w/{self.dot_stages} stages")


# the interpreter runs one program at a time: few programs, big tiles
CPU_TUNING = Tuning(tile=1 << 15, pointwise_block=1 << 15, rows_cap=1024, reduction_cap=8192)
# what a GPU search tries: the default, then smaller and larger tiles
GPU_TUNINGS = [Tuning(),
               Tuning(tile=2048, pointwise_block=512, rows_cap=1, reduction_cap=2048,
                      reduction_warps=4, dot_block=32, dot_k=64),
               Tuning(tile=8192, pointwise_block=2048, rows_cap=32, reduction_cap=512,
                      pointwise_warps=8, dot_block=128, dot_warps=8),
               Tuning(tile=4096, pointwise_block=1024, rows_cap=4, reduction_cap=4096,
                      reduction_warps=16, dot_k=64, dot_stages=4)]


def block_config(kernel: Kernel, tuning: Tuning) -> dict[str, str]:
    """Block sizes (expressions of the launcher's arguments) and warps for one kernel."""
    c: dict[str, str] = {}
    if kernel.kind == "pointwise":
        dims = [d for d in ("z", "y", "x") if d in kernel.axes]
        if len(dims) == 1:
            c["XBLOCK"] = str(tuning.pointwise_block)
        else:  # the tile's power of two shared out, the rest to x (the contiguous one):
            # a block of tl.arange must be a power of two (2048 over y and x: 32 x 64, not
            # 45 x 45, which no compiler takes)
            bits = max(0, tuning.tile.bit_length() - 1)
            for d in dims:
                share = bits // len(dims) + (bits % len(dims) if d == "x" else 0)
                c[f"{d.upper()}BLOCK"] = str(1 << share)
        c["num_warps"] = str(tuning.pointwise_warps)
        return c
    if "tl.dot(" in kernel.source:  # Inductor's own matrix product: tiles of 16 or more,
        # one matrix of a batch a program (Inductor's ZBLOCK is 1 for every batched product)
        c.update({b: v for b, v in (
            ("XBLOCK", str(tuning.dot_block)), ("YBLOCK", str(tuning.dot_block)),
            ("ZBLOCK", "1"),
            ("R0_BLOCK", "max(16, triton.next_power_of_2(r0_numel))" if kernel.kind ==
             "persistent" else  # a persistent kernel has no loop: its block is the whole sum
             f"max(16, min(triton.next_power_of_2(r0_numel), {tuning.dot_k}))"))
            if b in kernel.constexprs})
        c["num_warps"] = str(tuning.dot_warps)
        c["num_stages"] = str(tuning.dot_stages)
        return c
    r_block = kernel.fixed.get("R0_BLOCK")
    if "R0_BLOCK" in kernel.constexprs:
        r = "triton.next_power_of_2(r0_numel)"
        c["R0_BLOCK"] = r if kernel.kind == "persistent" else f"min({r}, {tuning.reduction_cap})"
        r_block = "R0_BLOCK"
    rows = f"{tuning.tile} // {r_block}" if r_block is not None else "1"
    if "YBLOCK" in kernel.constexprs:  # a reduction tiled over two output dimensions: square
        side = f"1 << ((({rows}).bit_length() - 1) // 2)"
        c["XBLOCK"] = c["YBLOCK"] = f"max(1, min({tuning.rows_cap}, {side}))"
    elif "XBLOCK" in kernel.constexprs:
        c["XBLOCK"] = f"max(1, min({tuning.rows_cap}, {rows}))"
    if "ZBLOCK" in kernel.constexprs:  # a third output dimension (a batch): one a program
        c["ZBLOCK"] = "1"
    c["num_warps"] = str(tuning.reduction_warps)
    return c


def launcher(kernel: Kernel, config: dict[str, str]) -> str:
    blocks = [b for b in kernel.constexprs if b not in config]
    if blocks:
        raise NotCovered(f"kernel {kernel.name}: no size for {blocks}")
    lines = [f"def launch_{kernel.name}({', '.join(kernel.params)}):"]
    for block in ("R0_BLOCK", "R1_BLOCK", "XBLOCK", "YBLOCK", "ZBLOCK"):
        if block in kernel.constexprs:
            lines.append(f"    {block} = {config[block]}")
            numel = BLOCKS[block]
            if numel.replace("numel", "") in kernel.unmasked:
                # no mask on this dimension: the block must divide it (x & -x is the largest
                # power of two that does)
                lines.append(f"    {block} = min({block}, {numel} & -{numel})")
    grid = ["1", "1", "1"]
    for dim, (axis, block) in kernel.axes.items():
        numel = f"{dim}numel"
        if numel not in kernel.params:
            raise NotCovered(f"kernel {kernel.name}: {numel} is not an argument")
        programs = numel if block is None else f"triton.cdiv({numel}, {block})"
        if axis == -1:  # folded over axes 1 and 2 (at most 65535 programs on axis 1)
            lines.append(f"    y_programs = {programs}")
            grid[1] = "min(y_programs, 65535)"
            grid[2] = "triton.cdiv(y_programs, 65535)"
        else:
            grid[axis] = programs
    lines.append(f"    grid = ({', '.join(grid)})")
    keywords = [f"{b}={b}" for b in kernel.constexprs] + [
        f"{k}={config[k]}" for k in ("num_warps", "num_stages") if k in config]
    lines.append(f"    {kernel.name}[grid]({', '.join(kernel.params + keywords)})")
    return "\n".join(lines)


# -- the file -----------------------------------------------------------------------------

def candidate_source(generated: dict, tuning: Tuning | None = None) -> tuple[str, list[str]]:
    """The candidate file's text and the names of its kernels."""
    device = generated["device"]
    narrower = generated.get("narrower_than_the_sets")
    if narrower:  # recorded by the generator, which ran the problem's code for the sets' sizes
        raise NotCovered(f"torch.compile's code holds for some sizes only: {narrower[0]}")
    module = parse_module(generated["code"], device)
    forward_args = generated["forward_args"]
    states, bindings = [], []
    for entry in generated["inputs"]:
        expr, state = input_expression(entry, forward_args)
        bindings.append(expr)
        if state is not None:
            states.append(state)
    tensor_args = [e["source"] for e in generated["inputs"]
                   if e.get("kind") == "tensor" and _ARG.fullmatch(e.get("source") or "")]
    device_expr = (f"{_ARG.fullmatch(tensor_args[0]).group(1)}.device" if tensor_args else
                   f"{states[0].access()}.device" if states else None)
    if device_expr is None:
        raise NotCovered("no tensor input to take the device from")
    names: list[str] = []
    body = _statements(module.call.body, names)
    if len(names) != len(bindings):
        raise NotCovered(f"call() takes {len(names)} arguments, the graph has {len(bindings)}")
    rewrite = _CallRewrite(module.kernels, device_expr)
    body = [rewrite.visit(node) for node in body]
    ret = body[-1] if body and isinstance(body[-1], ast.Return) else None
    if ret is None:
        raise NotCovered("call() does not end in a return")
    outputs = ret.value.elts if isinstance(ret.value, ast.Tuple) else [ret.value]
    shape = generated["output"]
    if shape == "tensor":
        if len(outputs) != 1:
            raise NotCovered(f"call() returns {len(outputs)} values for one output")
        ret.value = outputs[0]
    elif int(shape.split(":")[1]) != len(outputs):
        raise NotCovered(f"call() returns {len(outputs)} values for {shape}")
    elif shape.startswith("list"):
        ret.value = ast.List(outputs, ast.Load())

    tuning = tuning or (CPU_TUNING if device == "cpu" else GPU_TUNINGS[0])
    init_args = [f"init_{i}" for i in range(generated["init_args"])]
    lines = ['"""torch.compile (Inductor) Triton, written out for this problem: '
             "kernels, their launches, and a ModelNew that allocates and launches them.\n\n"
             f"Generated by autodocket's compiler seed (kernels/seed) with dynamic shapes on "
             f"{device}, torch {generated['torch']}; launch configuration: "
             f"{tuning.label()}.\n\"\"\"",
             "import torch", "import torch.nn as nn", "import triton",
             "import triton.language as tl"]
    if device != "cpu" and "libdevice." in "".join(k.source for k in module.kernels.values()):
        lines.append("from triton.language.extra import libdevice")
    lines += ["", ""]
    lines += [h.strip() + "\n\n" for h in helpers_needed(module.helpers)]
    lines += [PORTABLE_LIBDEVICE[n].strip() + "\n\n" for n in sorted(module.portable)]
    for kernel in module.kernels.values():
        lines += [kernel.source, "", "", launcher(kernel, block_config(kernel, tuning)), "", ""]
    lines += ["def _module_at(root, path):",
              "    for name in path:",
              "        if name not in root._modules:",
              "            root.add_module(name, nn.Module())",
              "        root = root._modules[name]",
              "    return root",
              "", "",
              "class ModelNew(nn.Module):",
              f"    def __init__({', '.join(['self'] + init_args)}):",
              "        super().__init__()",
              "        # the reference's parameters and buffers by name and shape: the harness "
              "copies their values in"]
    for s in states:
        shape = "".join(f"{d}, " for d in s.shape).rstrip(" ")
        dtype = s.dtype if not s.dtype.startswith("torch.float") and \
            s.dtype != "torch.bfloat16" else "torch.float32"
        tensor = f"torch.empty(({shape}), dtype={dtype})"
        owner = f"_module_at(self, {s.path!r})" if s.path else "self"
        if s.kind == "parameters":
            lines.append(f"        {owner}.register_parameter({s.leaf!r}, "
                         f"nn.Parameter({tensor}, requires_grad=False))")
        else:
            lines.append(f"        {owner}.register_buffer({s.leaf!r}, {tensor})")
    if not states:
        lines.append("        pass")
    lines += ["", f"    def forward({', '.join(['self'] + forward_args)}):"]
    lines += [f"        {name} = {expr}" for name, expr in zip(names, bindings)]
    lines += ["        " + line for node in body for line in ast.unparse(node).splitlines()]
    return "\n".join(lines) + "\n", list(module.kernels)
